// Package experiment runs Keragon ensemble experiments on Apache Beam:
// an ensemble's members, a learner's cross-validation folds, or every
// (parameter values, fold) pair of a grid search, each a job that any
// Beam runner — Prism on a laptop or in tests, Flink, Spark or Dataflow
// on a cluster — can schedule.
//
// # Overview
//
// An Experiment (a JSON file) names the data, a seed, and one of an
// ensemble (bagging, random-forest-style feature bagging, voting,
// stacking), a learner to cross-validate, or a learner and a grid of its
// parameters. Run builds the pipeline (Pipeline), runs it on the runner
// Beam's flags choose, and reads back the Result:
//
//	beam.Init()
//	e, err := experiment.ReadFile("grid.json")
//	...
//	res, err := experiment.Run(ctx, e, "/tmp/out") // or gs://bucket/out
//	res.GridSearch.WriteTable(os.Stdout)
//
// The pipeline uses the core library's members-as-data API only: the
// jobs are ensemble.MemberSpecs made by Bagging.Plan, Voting.Plan,
// Stacking.Plan, CVPlan or GridSearch.Plan; a worker trains one with
// ensemble.TrainMember and reports its score (ensemble.ScoreMember) or
// the trained member (ensemble.Save); one worker combines the reports in
// job order (Bagging, Voting or Stacking Assemble, GridSearch.Results),
// as the in-process ensembles do. So a Beam run gives, bit for bit, what
// InProcess gives: Keragon's own ensembles on goroutines, with the same
// seeds.
//
// # Data
//
// Workers read the data themselves — CSV files through Beam's file
// systems: a local path, gs://…, s3://… — once per worker process, in the
// train DoFn's Setup; it is never embedded in the pipeline, which carries
// only the experiment's JSON and the job numbers. Every process works out
// the same plan from the experiment and the data.
//
// # Failures
//
// A job whose learner fails to train is reported, not retried (its error
// is deterministic): Run returns an *ensemble.FitError naming each failed
// member (ensemble, member or grid point, fold) along with the result of
// the others. Errors of the pipeline itself (unreadable data, a worker
// that dies) fail the job on the runner and come back from Run.
package experiment
