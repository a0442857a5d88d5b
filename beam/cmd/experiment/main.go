// Command experiment runs a Keragon ensemble experiment — an ensemble's
// members, a learner's cross-validation folds, or a grid search with
// cross-validation — on Apache Beam, from a JSON experiment file:
//
//	go run ./cmd/experiment -experiment examples/grid.json
//	go run ./cmd/experiment -experiment grid.json -output gs://bucket/out \
//	    --runner=dataflow --project=P --region=R --temp_location=gs://bucket/tmp
//
// Beam's own flags choose the runner: --runner (prism by default, in
// this process), --endpoint, --environment_type, --environment_config,
// --worker_binary, and each runner's options (see README.md for recipes).
// -inprocess runs the same experiment with Keragon's in-process ensembles
// instead, for comparison.
//
// The pipeline writes result.json (and model.json, the fitted ensemble)
// to -output. The command prints a grid search's table, then, as its last
// line, the result as one JSON object. It exits with status 1 if the
// experiment failed or some of its jobs did (naming them on stderr).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs" // gs:// data and output
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"  // s3:// data and output
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/keragon/keragon/beam/experiment"
)

func main() {
	path := flag.String("experiment", "", "the experiment file (JSON); required")
	output := flag.String("output", "", "directory for result.json and model.json: a local path or a URL (gs://…, s3://…); default a new temporary directory")
	inProcess := flag.Bool("inprocess", false, "run with Keragon's in-process ensembles instead of Beam")
	workers := flag.Int("workers", -1, "goroutines of an -inprocess run (-1: one per processor)")
	table := flag.Bool("table", true, "print a grid search's table before the JSON")
	logLevel := flag.String("log_level", "warn", "Beam's log level: debug, info, warn or error")
	flag.Parse()
	beamlog.LogLevel = *logLevel
	if experiment.Init() {
		return // a worker process, done
	}
	if *path == "" {
		fmt.Fprintln(os.Stderr, "experiment: -experiment is required")
		flag.Usage()
		os.Exit(2)
	}
	e, err := experiment.ReadFile(*path)
	check(err)
	check(e.Check())
	ctx := context.Background()
	var res *experiment.Result
	if *inProcess {
		res, err = experiment.InProcess(ctx, e, *workers)
	} else {
		if *output == "" {
			*output, err = os.MkdirTemp("", "keragon-experiment-")
			check(err)
		}
		res, err = experiment.Run(ctx, e, *output)
	}
	if res == nil {
		check(err)
	}
	if *table && res.GridSearch != nil {
		check(res.GridSearch.WriteTable(os.Stdout))
	}
	line, jerr := json.Marshal(res)
	check(jerr)
	fmt.Println(string(line))
	check(err)
}

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		os.Exit(1)
	}
}
