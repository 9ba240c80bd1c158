package logs

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCallJSONLatencyInMicroseconds(t *testing.T) {
	c := fixture()[1]
	c.ID = 2
	c.Latency = 2500 * time.Microsecond
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"latency_us":2500`) || strings.Count(string(b), "latency_us") != 1 {
		t.Errorf("JSON = %s; want one latency_us of 2500", b)
	}
	var back Call
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// Through a pointer too.
	b2, _ := json.Marshal(&c)
	if string(b2) != string(b) {
		t.Errorf("pointer JSON differs:\n%s\n%s", b2, b)
	}
}
