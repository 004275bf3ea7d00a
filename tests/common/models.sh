# models.sh — comparisons of the tool's outputs for the shell tests (source after checks.sh):
#   close A B [TOL]        every number of model files A and B (weights, means, covariances,
#                          lower_bound) agrees to TOL relative (default 1e-10), same n_iter;
#                          says the worst difference when it does not
#   table_close A B [TOL]  two select tables (CSV): same rows and statuses, every number
#                          within TOL relative (default 1e-10)
#   ck_field FILE EXPR     prints json.load(FILE)EXPR, e.g. ck_field m.json '["n_iter"]'
close() {
  "$PY" - "$1" "$2" "${3:-1e-10}" <<'P'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
tol = float(sys.argv[3])
def flat(v):
    if isinstance(v, list):
        for x in v: yield from flat(x)
    else: yield v
worst = 0.0
for k in ("weights", "means", "covariances", "lower_bound"):
    for x, y in zip(flat(a[k]), flat(b[k]), strict=True):
        worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-3))
assert a["n_iter"] == b["n_iter"], (a["n_iter"], b["n_iter"])
sys.exit(0 if worst <= tol else f"worst relative difference {worst:.3g}")
P
}

table_close() {
  "$PY" - "$1" "$2" "${3:-1e-10}" <<'P'
import csv, sys
a, b = (list(csv.reader(open(f))) for f in sys.argv[1:3])
tol = float(sys.argv[3])
assert len(a) == len(b) and a[0] == b[0], "different rows"
for ra, rb in zip(a[1:], b[1:]):
    for x, y in zip(ra, rb, strict=True):
        try:
            fx, fy = float(x), float(y)
        except ValueError:
            assert x == y, (x, y)
            continue
        assert abs(fx - fy) <= tol * max(abs(fx), abs(fy), 1e-3), (ra, rb)
P
}

ck_field() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }
