#!/bin/bash
# Run by hand: the default run, then the README's 3-process run, in one fresh clone of this
# repository (its committed HEAD): the default run's Parquet files must be unchanged (sha256), the
# 3-process run must hold exactly its processes, and the same config without a run name is refused.
# Also reports the main job's console line count. Outputs go to $OUT (a new temporary folder by default).
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd); OUT=${OUT:-$(mktemp -d)}; C=$OUT/clone
rm -rf $C && git clone -q "$REPO" $C && cd $C || exit 1
export PYTHONPATH=$C/src
python -c "import symba; print(symba.__file__)"
echo "load before: $(cat /proc/loadavg)"
/usr/bin/time -f "default run: wall %e s, user %U s, sys %S s" nice -n 10 snakemake --cores 2 > $OUT/default.console 2>&1
echo "default rc=$?  console lines: $(wc -l < $OUT/default.console)  longest line: $(awk '{ if (length($0) > m) m = length($0) } END { print m }' $OUT/default.console)"
tail -1 $OUT/default.console
echo "load after: $(cat /proc/loadavg)"
find results/default -name '*.parquet' -print0 | sort -z | xargs -0 sha256sum > $OUT/hashes.before
echo "default parquet files: $(wc -l < $OUT/hashes.before)"
cat > three.yaml <<'YAML'
run: three
theories: {qed: {processes: ["e- e+ -> mu- mu+", "e- mu- -> e- mu-", "e- a -> e- a"]}}
YAML
sed '/^run:/d' three.yaml > three-noname.yaml
nice -n 10 snakemake --cores 2 --configfile three-noname.yaml --config 'targets=[dataset]' > $OUT/noname.console 2>&1
echo "same config without run name: rc=$? -> $(tail -1 $OUT/noname.console)"
/usr/bin/time -f "three run: wall %e s" nice -n 10 snakemake --cores 2 --configfile three.yaml --config 'targets=[dataset]' > $OUT/three.console 2>&1
echo "three rc=$?  console lines: $(wc -l < $OUT/three.console)"
find results/default -name '*.parquet' -print0 | sort -z | xargs -0 sha256sum > $OUT/hashes.after
cmp $OUT/hashes.before $OUT/hashes.after && echo "default run's parquet files: unchanged (sha256)"
python - <<'PY'
import pyarrow.dataset as ds
t = ds.dataset("results/three/dataset", format="parquet").to_table()
print("three run dataset:", t.num_rows, "rows; processes:", sorted(set(t.column("process").to_pylist())))
d = ds.dataset("results/default/dataset", format="parquet").to_table()
print("default run dataset:", d.num_rows, "rows,", len(set(d.column("process").to_pylist())), "processes")
PY
nice -n 10 snakemake --cores 2 > $OUT/default2.console 2>&1; echo "default again: rc=$? $(grep -c 'Nothing to be done' $OUT/default2.console) nothing-to-do"
