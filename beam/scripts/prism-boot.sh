#!/bin/sh
# prism-boot.sh: the command of Prism's PROCESS environment for Go
# workers. It runs Beam's Go boot program (BEAM_BOOT, or "boot" beside
# this script; build it with
#   go build -o boot github.com/apache/beam/sdks/v2/go/container
# in the beam module) after two fixes:
#   - Prism passes --id='ID' with the quotes; the boot program would
#     register as worker 'ID' and fail ("worker_id ... not registered in
#     worker pool") while the job waits for ever. The quotes are stripped.
#   - With BEAM_SEMI_PERSIST_DIR set, the staged worker binary goes there
#     instead of /tmp/staged, and the boot program runs there: it writes
#     pipeline_options.json into its working directory.
# Give it in --environment_config: {"command": "/path/to/prism-boot.sh",
# "env": {"BEAM_BOOT": "/path/to/boot"}}.
boot="${BEAM_BOOT:-$(cd "$(dirname "$0")" && pwd)/boot}"
n=$#
while [ "$n" -gt 0 ]; do
	a="$1"
	shift
	n=$((n - 1))
	case "$a" in
	--id=\'*\')
		a="--id=$(printf '%s' "${a#--id=}" | tr -d "'")"
		;;
	esac
	set -- "$@" "$a"
done
if [ -n "$BEAM_SEMI_PERSIST_DIR" ]; then
	set -- "$@" "--semi_persist_dir=$BEAM_SEMI_PERSIST_DIR"
	cd "$BEAM_SEMI_PERSIST_DIR" || exit 1
fi
exec "$boot" "$@"
