package mux

// An HTTP agent's answer to a stdio server's form elicitation reaches the
// server as the agent sent it, as a stdio agent's does (elicitraw.go). The
// SDK writes the elicitation to the agent as an event of its own, with an
// id it picks, and decodes the answer the agent POSTs: so the event's
// writer (cancelFilter) learns which id carries which relayed elicitation,
// by its params (the server's, compared as JSON values: the SDK may encode
// them differently), and the POST's reader (noteCancelledPOST) keeps the
// result sent under that id before the SDK reads it.

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"sync"
)

// httpAsks are the raw elicitations sent to HTTP agents, by session: those
// not yet seen on the wire, and those seen, by request id.
type httpAsks struct {
	mu       sync.Mutex
	sessions map[string]*sessionAsks
}

type sessionAsks struct {
	unsent []unsentAsk // in the order they were asked
	byID   map[string]*rawElicit
}

type unsentAsk struct {
	slot   *rawElicit
	params any // the server's params, decoded
}

// add notes that slot is being sent to the agent of session, and returns
// the function that forgets it once answered.
func (h *httpAsks) add(session string, slot *rawElicit) (forget func()) {
	var params any
	if json.Unmarshal(slot.params, &params) != nil {
		return func() {}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions == nil {
		h.sessions = map[string]*sessionAsks{}
	}
	s := h.sessions[session]
	if s == nil {
		s = &sessionAsks{byID: map[string]*rawElicit{}}
		h.sessions[session] = s
	}
	s.unsent = append(s.unsent, unsentAsk{slot, params})
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		s.unsent = slices.DeleteFunc(s.unsent, func(u unsentAsk) bool { return u.slot == slot })
		for id, e := range s.byID {
			if e == slot {
				delete(s.byID, id)
			}
		}
		if len(s.unsent) == 0 && len(s.byID) == 0 && h.sessions[session] == s {
			delete(h.sessions, session)
		}
	}
}

// sent notes that the elicitation with params went to session's agent
// under id.
func (h *httpAsks) sent(session string, id any, params []byte) {
	var v any
	if json.Unmarshal(params, &v) != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[session]
	if s == nil {
		return
	}
	for i, u := range s.unsent {
		if reflect.DeepEqual(u.params, v) {
			s.byID[idKey(id)] = u.slot
			s.unsent = slices.Delete(s.unsent, i, i+1)
			return
		}
	}
}

// answered keeps the result the agent of session sent for id, when id
// carried a raw elicitation.
func (h *httpAsks) answered(session string, id any, result []byte) {
	h.mu.Lock()
	s := h.sessions[session]
	var slot *rawElicit
	if s != nil {
		slot = s.byID[idKey(id)]
	}
	h.mu.Unlock()
	if slot != nil && len(result) > 0 {
		slot.setRaw(json.RawMessage(bytes.Clone(result)))
	}
}
