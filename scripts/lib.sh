# SPDX-License-Identifier: GPL-2.0
#
# lib.sh: what cowdev's scripts share, sourced by scripts/check,
# check-debug, kdir, vm-run, deps, debug-kernel and .ci/run:
#   - the kernel matrix (scripts/kernels): kernel_names, kernel_field,
#     kernel_release, kernel_debug_dir;
#   - the check loop: check_kernel builds the module for one kernel, runs a
#     command in its guest and adds the guest's counts to the totals;
#   - the summaries: the guest's "cowdev-selftests: pass:N fail:N skip:N"
#     line (selftests/cowdev/run) and the final "N passed, N failed, N
#     skipped" line (summary_add, summary_print, summary_of).
# Needs $top, the repository's root.

cowdev_kernels_table=$top/scripts/kernels

# The matrix's lines, without comments.
kernel_table() {
	grep -v '^[[:space:]]*\(#\|$\)' "$cowdev_kernels_table"
}

# kernel_names [SUITE]: the names of the matrix (of SUITE: check, debug).
kernel_names() {
	kernel_table | awk -v s="${1:-}" \
		's == "" || index("," $6 ",", "," s ",") { print $1 }' |
		tr '\n' ' ' | sed 's/ $//'
}

# kernel_field NAME FIELD: FIELD (kind, source, packages, timeout, suites)
# of kernel NAME; fails for a name not in the matrix.
kernel_field() {
	local col
	case $2 in
	kind) col=2 ;; source) col=3 ;; packages) col=4 ;;
	timeout) col=5 ;; suites) col=6 ;;
	*) echo "lib.sh: no field '$2'" >&2; return 2 ;;
	esac
	kernel_table | awk -v n="$1" -v c="$col" '
		$1 == n { print $c; found = 1 } END { exit !found }'
}

# Every package the matrix needs, one per line.
kernel_packages() {
	kernel_table | awk '{ print $4 }' | tr ',' '\n'
}

# kernel_release NAME: the newest installed release of a Debian kernel of
# the matrix (empty if none), or NAME itself when it is not in the matrix.
kernel_release() {
	local pat
	if ! pat=$(kernel_field "$1" source 2>/dev/null); then
		echo "$1"
		return
	fi
	# shellcheck disable=SC2012
	ls /lib/modules 2>/dev/null | grep -E "^$pat\$" | sort -V | tail -n1 || true
}

# kernel_debug_dir NAME: the cache directory of debug kernel NAME of the
# matrix (scripts/debug-kernel builds it on first use); fails for a name
# that is not a debug kernel.
kernel_debug_dir() {
	local src

	[ "$(kernel_field "$1" kind 2>/dev/null)" = debug ] || return 1
	src=$(kernel_field "$1" source)
	"$top/scripts/debug-kernel" "$src" | tail -n1
}

# ---- summaries ----------------------------------------------------------

summary_pass=0 summary_fail=0 summary_skip=0

summary_add() {
	summary_pass=$((summary_pass + ${1:-0}))
	summary_fail=$((summary_fail + ${2:-0}))
	summary_skip=$((summary_skip + ${3:-0}))
}

summary_print() {
	echo "$summary_pass passed, $summary_fail failed, $summary_skip skipped"
}

# Exit status of a run: pass only if something passed and nothing failed.
summary_status() {
	[ "$summary_fail" -eq 0 ] && [ "$summary_pass" -gt 0 ]
}

# summary_of LOG: "P F S" from the last summary line of LOG, either the
# guest's "cowdev-selftests: pass:P fail:F skip:S" or a final "P passed,
# F failed, S skipped"; nothing when it has neither.
summary_of() {
	tr -d '\r' <"$1" | awk '
		/cowdev-selftests: pass:[0-9]+ fail:[0-9]+ skip:[0-9]+/ {
			split($0, a, /cowdev-selftests: /); split(a[2], f, /[ :]/)
			line = f[2] " " f[4] " " f[6] }
		/^[0-9]+ passed, [0-9]+ failed/ {
			s = $5; if (s == "") s = 0; line = $1 " " $3 " " s }
		END { if (line != "") print line }'
}

# ---- the check loop -----------------------------------------------------

# check_kernel NAME BUILD LOG TIMEOUT COMMAND...: build the module for
# kernel NAME into BUILD/NAME, run COMMAND in its guest (COMMAND may use
# @KO@ for the module's path), log to LOG, and add the guest's counts; a
# failed build, or a guest run that failed without a counted failure
# (warning, timeout, crash), adds one failure.
check_kernel() {
	local k=$1 build=$2 log=$3 timeout=$4 rc counts p f s start=$SECONDS
	local ko=$build/$1/module/cowdev.ko arg
	local -a cmd=()
	shift 4
	for arg in "$@"; do cmd+=("${arg//@KO@/$ko}"); done
	echo "=== cowdev: kernel $k"
	if ! make -s -C "$top" module-for KERNEL="$k" BUILD="$build" >"$log" 2>&1; then
		cat "$log"
		echo "not ok cowdev module build for $k"
		summary_add 0 1 0
		return
	fi
	"$top/scripts/vm-run" --kernel "$k" --timeout "$timeout" -- \
		"${cmd[@]}" 2>&1 | tee -a "$log"
	rc=${PIPESTATUS[0]}
	counts=$(summary_of "$log")
	read -r p f s <<<"${counts:-0 0 0}"
	summary_add "$p" "$f" "$s"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok cowdev guest run on $k failed (exit $rc)"
		summary_add 0 1 0
	fi
	echo "=== cowdev: kernel $k: pass:$p fail:$f skip:$s exit:$rc ($((SECONDS - start)) s)"
}
