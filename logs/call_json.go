package logs

import (
	"encoding/json"
	"time"
)

// callJSON is Call with its latency in integer microseconds, as
// latency_us promises; everything else keeps Call's own tags.
type callJSON struct {
	callFields
	Latency int64 `json:"latency_us"`
}

type callFields Call

// MarshalJSON writes Latency as integer microseconds (latency_us).
func (c Call) MarshalJSON() ([]byte, error) {
	return json.Marshal(callJSON{callFields(c), c.Latency.Microseconds()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Call) UnmarshalJSON(b []byte) error {
	var j callJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Call(j.callFields)
	c.Latency = time.Duration(j.Latency) * time.Microsecond
	return nil
}
