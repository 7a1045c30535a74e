package server

import (
	"io"
	"net/http"
)

// events hands the body of a push, at most MaxBody bytes, to Deps.Ingest
// and answers what it returns. The body is passed as it came (an
// EventBridge event, a batch of records, a CloudTrail log file): Ingest
// decodes it.
func (s *Server) events(w http.ResponseWriter, r *http.Request, _ *Token) error {
	if err := noParams(r); err != nil {
		return err
	}
	limit := s.deps.MaxBody
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if isTooLarge(err) {
			return tooLarge(limit)
		}
		return errorf(http.StatusBadRequest, CodeBadRequest, "read the body: %v", err)
	}
	if len(body) == 0 {
		return errorf(http.StatusBadRequest, CodeBadRequest, "the body is empty: want CloudTrail events")
	}
	res, err := s.deps.Ingest(r.Context(), body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, orEmpty(res))
	return nil
}
