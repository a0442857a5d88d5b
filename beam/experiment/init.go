package experiment

import (
	"flag"
	"os"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// Init initialises Beam; call it at the start of main (after flag.Parse),
// in place of beam.Init. In a worker process — the binary started with
// --worker by a runner's boot program — it runs the worker and does not
// return; if it ever does, it returns true and main should return.
//
// Its one difference from beam.Init: a Go worker that has finished waits
// to be killed, which a container runner does, but Prism's PROCESS
// environment kills only the boot program, the worker's parent. So a
// worker started by Init exits once its parent is gone, rather than
// outliving its job.
func Init() (worker bool) {
	f := flag.Lookup("worker")
	worker = f != nil && f.Value.String() == "true"
	if worker {
		go exitWithParent(os.Getppid())
	}
	beam.Init()
	return worker
}

// exitWithParent exits the process once its parent is no longer ppid.
func exitWithParent(ppid int) {
	for range time.Tick(500 * time.Millisecond) {
		if os.Getppid() != ppid {
			os.Exit(0)
		}
	}
}
