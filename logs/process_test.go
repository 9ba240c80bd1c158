package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// childEnv tells the test binary, re-executed, to act as one mcpgw
// process recording into the database named by the value.
const childEnv = "MCPGW_LOGS_TEST_CHILD_DB"

// TestRecorderChildProcess is the child's side of TestRecorderProcesses;
// it skips unless re-executed by it.
func TestRecorderChildProcess(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("runs only as a child of TestRecorderProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv(childEnv + "_N"))
	ctx := context.Background()
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := NewRecorder(db, nil)
	for i := range n {
		r.Record(testEntry(i))
	}
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	json.NewEncoder(os.Stdout).Encode(r.Stats())
}

// TestRecorderProcesses runs several processes recording into one
// database at once, as one mcpgw per desktop agent does, while another
// reads it, as `mcpgw logs` does.
func TestRecorderProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const procs, each = 6, 3000
	path := filepath.Join(t.TempDir(), "mcpgw.db")
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reader, err := Open(context.Background(), path, &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	start := time.Now()
	var (
		wg      sync.WaitGroup
		outputs = make([]bytes.Buffer, procs)
		errs    = make([]error, procs)
	)
	for i := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRecorderChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+path, childEnv+"_N="+strconv.Itoa(each))
		cmd.Stdout, cmd.Stderr = &outputs[i], &outputs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { errs[i] = cmd.Wait() })
	}
	childrenDone := make(chan struct{})
	go func() { wg.Wait(); close(childrenDone) }()

	// Read while they write, as `mcpgw logs -f` polls; no error may
	// reach the reader.
	var reads, maxSeen atomic.Int64
	readerDone := make(chan error, 1)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-childrenDone:
				readerDone <- nil
				return
			case <-tick.C:
			}
			var n int64
			if err := reader.sql.QueryRow("SELECT count(*) FROM calls").Scan(&n); err != nil {
				readerDone <- err
				return
			}
			reads.Add(1)
			maxSeen.Store(max(maxSeen.Load(), n))
		}
	}()
	<-childrenDone
	if err := <-readerDone; err != nil {
		t.Errorf("reading while %d processes write: %v", procs, err)
	}
	t.Logf("%d processes × %d calls in %v; %d reads meanwhile, the last saw %d rows", procs, each, time.Since(start), reads.Load(), maxSeen.Load())

	for i := range procs {
		if errs[i] != nil {
			t.Errorf("process %d: %v\n%s", i, errs[i], outputs[i].String())
			continue
		}
		var s RecorderStats
		line := outputs[i].Bytes()
		if j := bytes.IndexByte(line, '{'); j >= 0 {
			json.Unmarshal(line[j:bytes.IndexByte(line[j:], '\n')+j], &s)
		}
		if s.Recorded != each || s.Dropped != 0 {
			t.Errorf("process %d: %+v; want %d recorded, none dropped\n%s", i, s, each, outputs[i].String())
		}
	}
	if got := countCalls(t, db); got != procs*each {
		t.Errorf("%d rows; want %d", got, procs*each)
	}
	var pids int
	db.sql.QueryRow(fmt.Sprintf("SELECT count(*) FROM (SELECT pid FROM calls GROUP BY pid HAVING count(*) = %d)", each)).Scan(&pids)
	if pids != procs {
		t.Errorf("%d processes wrote %d rows each; want %d", pids, each, procs)
	}
	if tot, err := db.Dropped(context.Background()); err != nil || tot.Total != 0 {
		t.Errorf("Dropped = %+v, %v; want none", tot, err)
	}
}
