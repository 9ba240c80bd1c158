package guard

import (
	"context"
	"time"
)

// RecordRedactor masks what goes into the call record: the values of
// stored secrets ([Known]) and whatever the guard's detectors find, with
// any action but off in either phase, so a blocked call's arguments or a
// warned-about result never reach the database file. It satisfies the
// record's Redactor interface.
type RecordRedactor struct {
	Known *Known
	Guard *Guard
}

// Redact returns b with stored secrets and detected content masked, and
// whether anything changed. Text that is not JSON is scanned as one string.
func (r RecordRedactor) Redact(b []byte) ([]byte, bool) {
	out, changed := r.Known.Redact(b)
	if r.Guard == nil {
		return out, changed
	}
	st := r.Guard.state.Load()
	dets := st.recorded
	if len(dets) == 0 {
		return out, changed
	}
	if containsDet(dets, st.secrets) && st.secrets.loaded() == nil {
		ctx, cancel := context.WithTimeout(context.Background(), r.Guard.readyWait)
		err := r.Guard.waitReady(ctx, st.secrets)
		cancel()
		if err != nil {
			// Fail closed: a payload that could not be scanned is not kept.
			return []byte(marker("guard-secrets-unready")), true
		}
	}
	// No time budget here: the record is written off the call's path.
	sc := (&Scanner{MaxBytes: st.scanner.MaxBytes, MaxTime: time.Minute}).Scan(context.Background(), out, "$", dets, func(Finding) bool { return true })
	if sc.Out == nil {
		return out, changed
	}
	return sc.Out, true
}

func containsDet(ds []Detector, d Detector) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}
