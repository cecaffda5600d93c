package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// limiter caps measurements in flight, globally and per subject (JWT sub).
// These are concurrency caps, not request rates: a slot is held from the
// moment a measurement is admitted until it ends. Each slot carries its
// expected end so a refusal can say when to retry. Safe for concurrent use.
type limiter struct {
	global, perSubject int
	now                func() time.Time

	mu    sync.Mutex
	slots map[*slot]struct{}
	bySub map[string]int
}

type slot struct {
	sub  string
	ends time.Time // expected end of the measurement
}

// limitState is what the RateLimit headers report for one request.
type limitState struct {
	limit     int // the cap that applies (per-subject, or global when that is the tighter)
	remaining int // slots left for this subject after this request
	reset     int // seconds until a slot is expected to free up; 0 when one is free
	scope     string
}

func newLimiter(global, perSubject int, now func() time.Time) *limiter {
	return &limiter{global: global, perSubject: perSubject, now: now,
		slots: map[*slot]struct{}{}, bySub: map[string]int{}}
}

// acquire admits one measurement of subject sub expected to last d. On
// success it returns the release function (idempotent) and ok; otherwise the
// state to report in the 429.
func (l *limiter) acquire(sub string, d time.Duration) (release func(), st limitState, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.bySub[sub] >= l.perSubject {
		return nil, limitState{limit: l.perSubject, reset: l.resetLocked(now, sub, true), scope: "subject"}, false
	}
	if len(l.slots) >= l.global {
		return nil, limitState{limit: l.global, reset: l.resetLocked(now, "", false), scope: "global"}, false
	}
	sl := &slot{sub: sub, ends: now.Add(d)}
	l.slots[sl] = struct{}{}
	l.bySub[sub]++
	st = limitState{limit: l.perSubject, remaining: min(l.perSubject-l.bySub[sub], l.global-len(l.slots)), scope: "subject"}
	var once sync.Once
	release = func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			delete(l.slots, sl)
			if l.bySub[sub]--; l.bySub[sub] <= 0 {
				delete(l.bySub, sub)
			}
		})
	}
	return release, st, true
}

// resetLocked returns the whole seconds (at least 1) until the earliest
// expected end among the slots of sub (bySubject) or of everyone.
func (l *limiter) resetLocked(now time.Time, sub string, bySubject bool) int {
	earliest := time.Duration(math.MaxInt64)
	for sl := range l.slots {
		if bySubject && sl.sub != sub {
			continue
		}
		earliest = min(earliest, sl.ends.Sub(now))
	}
	if earliest == time.Duration(math.MaxInt64) || earliest <= 0 {
		return 1
	}
	return int(math.Ceil(earliest.Seconds()))
}

// inFlight returns the number of admitted measurements.
func (l *limiter) inFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.slots)
}

// setRateLimitHeaders writes the IETF draft (draft-ietf-httpapi-ratelimit-
// headers-07) fields for a concurrency cap: RateLimit-Limit is the cap on
// measurements in flight, RateLimit-Remaining the slots left, RateLimit-Reset
// the seconds until a slot is expected to free up.
func setRateLimitHeaders(c *gin.Context, st limitState) {
	h := c.Writer.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(st.limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(max(st.remaining, 0)))
	h.Set("RateLimit-Reset", strconv.Itoa(st.reset))
}

// tooMany is the 429 for a refused admission.
func tooMany(st limitState) *Error {
	msg := "too many measurements in flight for this subject (limit " + strconv.Itoa(st.limit) + "); retry later"
	if st.scope == "global" {
		msg = "the server is running its maximum of " + strconv.Itoa(st.limit) + " measurements; retry later"
	}
	e := newError(http.StatusTooManyRequests, CodeTooManyRequests, msg, nil)
	e.RetryAfter = max(st.reset, 1)
	return e
}
