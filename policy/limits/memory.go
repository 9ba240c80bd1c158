package limits

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Memory is a [Store] in the process: one rate.Limiter per bucket. It is
// what limits use without a record database, and when the database fails.
type Memory struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// Take implements [Store].
func (s *Memory) Take(_ context.Context, now time.Time, bs []Bucket) (int, time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*rate.Limiter{}
	}
	rs := make([]*rate.Reservation, 0, len(bs))
	cancel := func() {
		for _, r := range rs {
			r.CancelAt(now)
		}
	}
	for i, b := range bs {
		l := s.m[b.Key]
		if l == nil {
			l = rate.NewLimiter(rate.Limit(b.Rate), int(b.Burst)) // full
			s.m[b.Key] = l
		} else if l.Limit() != rate.Limit(b.Rate) || l.Burst() != int(b.Burst) {
			l.SetLimitAt(now, rate.Limit(b.Rate))
			l.SetBurstAt(now, int(b.Burst))
		}
		r := l.ReserveN(now, 1)
		if d := r.DelayFrom(now); !r.OK() || d > 0 {
			r.CancelAt(now)
			cancel()
			return i, d, nil
		}
		rs = append(rs, r)
	}
	return -1, 0, nil
}
