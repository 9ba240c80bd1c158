package logs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Entry is what the call path hands a [Recorder]: the call and its raw
// payloads, the JSON bytes as sent and received. The recorder owns Args
// and Result once recorded; the caller must not modify them. The payload
// work (masking, capping, hashing) runs on the recorder's goroutine, never
// on the call path, and sets Call's payload fields (whatever they held).
// A zero Call.Time means when it is written; a zero Call.PID, this
// process.
type Entry struct {
	Call         Call
	Args, Result []byte
}

// RecorderOptions configures [NewRecorder]. The zero value means defaults.
type RecorderOptions struct {
	// Payloads is how much of each payload is kept; "" (and any unknown
	// mode) means [PayloadsRedacted].
	Payloads PayloadMode
	// MaxPayloadBytes caps each stored payload; zero means
	// [DefaultMaxPayloadBytes]. A longer one keeps a prefix, cut between
	// runes, and a marker such as "…[truncated, 123456 bytes]"; the call's
	// ArgsSize and ResultSize keep the full sizes.
	MaxPayloadBytes int
	// Redactor masks known secrets (every value resolved from a
	// ${secret:...} reference) in every mode: in payloads and in every
	// text field, Error and Reason included, so no secret reaches the
	// file. Nil masks nothing.
	Redactor Redactor

	// QueueSize bounds the entries waiting to be written; zero means
	// 16384. When it is reached, entries are dropped and counted.
	QueueSize int
	// MaxQueueBytes bounds the payload bytes waiting to be written; zero
	// means 64 MiB. Past it, entries are dropped and counted: a burst of
	// large results cannot hold memory without bound.
	MaxQueueBytes int64
	// BatchSize is how many calls one transaction writes at most; zero
	// means 512.
	BatchSize int
	// FlushInterval is how long the first call of a batch waits for
	// others; zero means 50ms. Rows reach readers (`mcpgw logs -f`)
	// within about this. [Recorder.RecordSync] does not wait for it.
	FlushInterval time.Duration

	// OnDrop, if set, is told when calls are lost, with the running total
	// and the last cause, at most once per 10s (and once more at Close if
	// there were new losses), on a goroutine of its own. mcpgw prints it
	// on stderr.
	OnDrop func(dropped int64, err error)
	// Retention, if it has a bound, prunes the record in the background.
	Retention Retention

	// Tests shorten these.
	retryWaits  []time.Duration // between write attempts; nil means defaultRetryWaits
	reportEvery time.Duration   // OnDrop's period; zero means 10s
}

// Retention bounds the record from a running [Recorder], with [DB.Prune].
// Zero values mean no bound of that kind.
type Retention struct {
	MaxAge  time.Duration // calls older than this are deleted
	MaxSize int64         // bytes of data; the oldest calls are deleted past it
	Every   time.Duration // how often to prune; zero means 10m
}

// RecorderStats are a [Recorder]'s counters.
type RecorderStats struct {
	Recorded  int64  // calls written
	Dropped   int64  // calls lost: queue full, database failing, or recorded after Close
	Queued    int    // calls waiting to be written
	LastError string // the last error writing the record, "" if none
}

// Errors a recorder reports for calls it could not take.
var (
	ErrQueueFull = errors.New("the record's queue is full: calls come faster than the disk takes them")
	ErrClosed    = errors.New("the recorder is closed")
)

// defaultRetryWaits are the pauses between write attempts. Each attempt
// has already waited busy_timeout for a locked database; a full or failing
// disk gets 1.3s to come back before a batch is dropped.
var defaultRetryWaits = []time.Duration{50 * time.Millisecond, 250 * time.Millisecond, time.Second}

// item is a queued entry; done is RecordSync's, nil for Record.
type item struct {
	Entry
	done chan error
}

// Recorder writes calls to the record off the call path. [Recorder.Record]
// queues an entry and returns at once; one goroutine writes the queue in
// batches, one transaction each. It never blocks or fails its callers and
// never grows without bound: when the queue is full, or a batch still
// cannot be written after a few attempts (disk full, database read-only,
// locked for too long, corrupt), calls are dropped and counted, reported
// through [RecorderOptions.OnDrop], and written to the dropped table once
// a write succeeds again, for `mcpgw logs stats`. The recorder goes on, and
// recovers when the database does. Strict audit setups use
// [Recorder.RecordSync] instead, which waits for the commit and returns
// the failure.
//
// A Recorder is safe for concurrent use.
type Recorder struct {
	db       *DB
	policy   payloadPolicy
	queueMax int
	bytesMax int64
	batch    int
	interval time.Duration
	waits    []time.Duration
	onDrop   func(int64, error)
	every    time.Duration // OnDrop's period
	pid      int
	started  time.Time

	mu       sync.Mutex
	pending  []item
	spare    []item // the writer's last buffer, for reuse
	inflight int    // taken by the writer, not yet written or dropped
	bytes    int64  // payload bytes of pending and inflight entries
	syncs    int    // RecordSync entries in pending
	closing  bool

	wake  chan struct{} // to the writer: entries, a RecordSync, or Close
	calls []Call        // the writer's batch buffer

	recorded atomic.Int64
	dropped  atomic.Int64
	unsaved  atomic.Int64  // dropped, not yet in the dropped table
	dropSig  chan struct{} // to the reporter: new losses

	emu        sync.Mutex
	lastErr    string
	dropCause  error
	lastDropAt time.Time

	ctx        context.Context // the writer's; ends when Close's does
	cancel     context.CancelFunc
	bgCancel   context.CancelFunc // retention's; ends when Close starts
	stop       chan struct{}      // closed when the writer is done: the reporter's last report
	stopped    chan struct{}      // writer done
	background sync.WaitGroup     // reporter and retention
	closeOnce  sync.Once
	closeErr   error
}

// NewRecorder starts a recorder writing to db. Close it to flush the
// queue; db must stay open until then.
func NewRecorder(db *DB, opts *RecorderOptions) *Recorder {
	var o RecorderOptions
	if opts != nil {
		o = *opts
	}
	mode, err := ParsePayloadMode(string(o.Payloads))
	if err != nil {
		mode = PayloadsRedacted // masking more is the safe side of a typo
	}
	r := &Recorder{
		db:       db,
		policy:   payloadPolicy{mode: mode, max: orDefault(o.MaxPayloadBytes, DefaultMaxPayloadBytes), redactor: o.Redactor},
		queueMax: orDefault(o.QueueSize, 16384),
		bytesMax: orDefault(o.MaxQueueBytes, 64<<20),
		batch:    orDefault(o.BatchSize, 512),
		interval: orDefault(o.FlushInterval, 50*time.Millisecond),
		waits:    o.retryWaits,
		onDrop:   o.OnDrop,
		every:    orDefault(o.reportEvery, 10*time.Second),
		pid:      os.Getpid(),
		started:  time.Now(),
		wake:     make(chan struct{}, 1),
		dropSig:  make(chan struct{}, 1),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	if r.waits == nil {
		r.waits = defaultRetryWaits
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	bg, bgCancel := context.WithCancel(r.ctx)
	r.bgCancel = bgCancel
	go r.run()
	if r.onDrop != nil {
		r.background.Add(1)
		go r.report()
	}
	if ret := o.Retention; ret.MaxAge > 0 || ret.MaxSize > 0 {
		r.background.Add(1)
		go r.retain(bg, ret)
	}
	return r
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Record queues e to be written. It never blocks and never fails: when the
// queue is full, or after Close, e is dropped and counted.
func (r *Recorder) Record(e Entry) {
	r.enqueue(&e, nil)
}

// RecordSync records e and returns once it is committed, for strict audit
// setups where a call must fail when its record cannot be written. e is
// written in a batch with what else is queued, without waiting for
// FlushInterval. It returns an error when e was dropped (the queue is full,
// the recorder is closed, or the database could not be written after a few
// attempts), or when ctx ends first; e may then still be written.
func (r *Recorder) RecordSync(ctx context.Context, e Entry) error {
	done := make(chan error, 1)
	if err := r.enqueue(&e, done); err != nil {
		return fmt.Errorf("recording the call: %w", err)
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("recording the call: %w", ctx.Err())
	}
}

func (r *Recorder) enqueue(e *Entry, done chan error) error {
	size := int64(len(e.Args) + len(e.Result))
	r.mu.Lock()
	var err error
	switch {
	case r.closing:
		err = ErrClosed
	case len(r.pending)+r.inflight >= r.queueMax || r.bytes >= r.bytesMax:
		err = ErrQueueFull
	}
	if err != nil {
		r.mu.Unlock()
		r.drop(1, err)
		return err
	}
	r.pending = append(r.pending, item{*e, done})
	r.bytes += size
	n := len(r.pending)
	if done != nil {
		r.syncs++
	}
	r.mu.Unlock()
	// The writer wakes for a new batch, a full one, or a RecordSync; in
	// between it is waiting for FlushInterval or writing.
	if n == 1 || n == r.batch || done != nil {
		signal(r.wake)
	}
	return nil
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() RecorderStats {
	r.mu.Lock()
	queued := len(r.pending) + r.inflight
	r.mu.Unlock()
	r.emu.Lock()
	defer r.emu.Unlock()
	return RecorderStats{Recorded: r.recorded.Load(), Dropped: r.dropped.Load(), Queued: queued, LastError: r.lastErr}
}

// Close writes what is queued, waiting at most until ctx ends, and stops
// the recorder; what is still queued then is dropped and counted. Record
// after Close drops. Close does not close the database.
func (r *Recorder) Close(ctx context.Context) error {
	r.closeOnce.Do(func() { r.closeErr = r.close(ctx) })
	return r.closeErr
}

func (r *Recorder) close(ctx context.Context) error {
	r.mu.Lock()
	r.closing = true
	queued := len(r.pending) + r.inflight
	written := r.recorded.Load()
	r.mu.Unlock()
	r.bgCancel()
	signal(r.wake)
	select {
	case <-r.stopped:
	case <-ctx.Done():
		r.cancel() // the writer drops the rest and returns
		<-r.stopped
	}
	if ctx.Err() == nil {
		r.saveDrops(ctx)
	}
	r.cancel()
	close(r.stop)
	r.background.Wait()
	if lost := int64(queued) - (r.recorded.Load() - written); lost > 0 {
		cause := ctx.Err()
		if cause == nil {
			r.emu.Lock()
			cause = r.dropCause
			r.emu.Unlock()
		}
		return fmt.Errorf("closing the recorder: %d of %d queued calls not written: %w", lost, queued, cause)
	}
	return nil
}

// drop counts n lost calls.
func (r *Recorder) drop(n int, cause error) {
	r.dropped.Add(int64(n))
	r.unsaved.Add(int64(n))
	r.emu.Lock()
	r.dropCause = cause
	r.lastDropAt = time.Now()
	r.emu.Unlock()
	signal(r.dropSig)
}

func (r *Recorder) setLastError(err error) {
	r.emu.Lock()
	r.lastErr = err.Error()
	r.emu.Unlock()
}

// saveDrops adds the losses not yet written down to the dropped table; on
// failure they wait for the next success.
func (r *Recorder) saveDrops(ctx context.Context) {
	n := r.unsaved.Load()
	if n == 0 {
		return
	}
	r.emu.Lock()
	last, cause := r.lastDropAt, r.dropCause
	r.emu.Unlock()
	reason := ""
	if cause != nil {
		reason = cause.Error()
	}
	if err := r.db.addDropped(ctx, r.pid, r.started, n, last, reason); err != nil {
		r.setLastError(err)
		return
	}
	r.unsaved.Add(-n)
}

// report calls OnDrop when calls are lost, at most once per period, and a
// last time when the recorder stops.
func (r *Recorder) report() {
	defer r.background.Done()
	var told int64
	tell := func() {
		n := r.dropped.Load()
		if n <= told {
			return
		}
		told = n
		r.emu.Lock()
		cause := r.dropCause
		r.emu.Unlock()
		defer func() { recover() }() // the caller's code must not take the process down
		r.onDrop(n, cause)
	}
	quiet := time.NewTimer(r.every)
	quiet.Stop()
	for {
		select {
		case <-r.dropSig:
		case <-r.stop:
			tell()
			return
		}
		tell()
		quiet.Reset(r.every)
		select {
		case <-quiet.C:
		case <-r.stop:
			tell()
			return
		}
	}
}

// retain prunes the record every ret.Every until ctx ends.
func (r *Recorder) retain(ctx context.Context, ret Retention) {
	defer r.background.Done()
	t := time.NewTicker(orDefault(ret.Every, 10*time.Minute))
	defer t.Stop()
	for {
		if _, err := r.db.Prune(ctx, PruneOptions{OlderThan: ret.MaxAge, MaxSize: ret.MaxSize}); err != nil && ctx.Err() == nil {
			r.setLastError(fmt.Errorf("applying the retention: %w", err))
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}
