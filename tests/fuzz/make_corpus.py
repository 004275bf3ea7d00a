#!/usr/bin/env python3
# make_corpus.py — writes the hand-made seed inputs of tests/fuzz/corpus/<target>/ (seed-*
# files; reproducers of findings are committed beside them as crash-* files).  Standard
# library only:  python3 tests/fuzz/make_corpus.py
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


# ---------------------------------------------------------------- CSV
csv = {
    "plain": "1.5,2.25,3\n4,5.125,-6e-3\n",
    "header": "x,y,z\n1,2,3\n4,5,6\n",
    "quoted-header": '"a,b","c""d",e\n1,2,3\n',
    "quoted-numbers": '"1.5","2"\n"3","4e2"\n',
    "tsv": "1\t2\t3\n4\t5\t6\n",
    "semicolon": "1;2\n3;4\n",
    "spaces": "  1   2 3\n4 5   6  \n",
    "bom-crlf-comment": "\ufeff# comment\r\n1,2\r\n3,4\r\n\r\n",
    "wide-mantissa": "12345678901234567890e-5,0.1234567890123456789\n9007199254740993,1e22\n",
    "exponents": "1e308,2.2250738585072014e-308,4.9e-324\n-0.0,+7,.5\n",
    "overflow": "1,2\n3,1e999\n",
    "f32-overflow": "1e39,2\n",
    "nan": "1,nan\n",
    "inf": "inf,2\n",
    "hex": "0x1p3,2\n",
    "ragged": "1,2,3\n4,5\n",
    "empty-field": "1,,3\n",
    "blank-inside": "1,2\n\n3,4\n",
    "nonutf8": "1,2\n\xff\xfe,3\n",
    "one-column": "1\n2\n3\n",
    "header-only": "a,b,c\n",
    "long-number": "1." + "0" * 300 + "1,2\n",
}
for k, v in csv.items():
    put("csv", k, v.encode("latin-1") if k == "nonutf8" else v)


# ---------------------------------------------------------------- .npy
def npy(dictstr, payload, major=1, hlen=None):
    pre = 10 if major == 1 else 12
    pad = (64 - (pre + len(dictstr) + 1) % 64) % 64
    h = dictstr + " " * pad + "\n"
    n = len(h) if hlen is None else hlen
    lenfield = struct.pack("<H", n) if major == 1 else struct.pack("<I", n)
    return b"\x93NUMPY" + bytes([major, 0]) + lenfield + h.encode() + payload


X = struct.pack("<6d", 1.5, -2.385, 3.0625, 4e-3, -5.75, 6.125)
XF = struct.pack("<6f", 1.5, -2.385, 3.0625, 4e-3, -5.75, 6.125)
D = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }"
put("npy", "c-f8", npy(D % ("<f8", "False", "(3, 2)"), X))
put("npy", "fortran-f8", npy(D % ("<f8", "True", "(3, 2)"), X))
put("npy", "c-f4", npy(D % ("<f4", "False", "(3, 2)"), XF))
put("npy", "fortran-f4", npy(D % ("<f4", "True", "(2, 3)"), XF))
put("npy", "v2", npy(D % ("<f8", "False", "(6,)"), X, major=2))
put("npy", "v3", npy(D % ("<f8", "False", "(2, 3)"), X, major=3))
put("npy", "1d", npy(D % ("<f4", "False", "(6,)"), XF))
put("npy", "shape-lies", npy(D % ("<f8", "False", "(3000, 2)"), X))
put("npy", "shape-huge", npy(D % ("<f8", "False", "(99999999999, 99999999999)"), X))
put("npy", "shape-overflow", npy(D % ("<f8", "False", "(18446744073709551615, 2)"), X))
put("npy", "dtype-i4", npy(D % ("<i4", "False", "(3, 2)"), X))
put("npy", "dtype-big-endian", npy(D % (">f8", "False", "(3, 2)"), X))
put("npy", "header-len-huge", npy(D % ("<f8", "False", "(3, 2)"), X, major=2, hlen=0xFFFFFFF0))
put("npy", "header-len-short", npy(D % ("<f8", "False", "(3, 2)"), X, hlen=20))
put("npy", "truncated", npy(D % ("<f8", "False", "(3, 2)"), X)[:70])
put("npy", "3d", npy(D % ("<f8", "False", "(1, 3, 2)"), X))
put("npy", "0d", npy(D % ("<f8", "False", "()"), X[:8]))
put("npy", "magic-only", b"\x93NUMPY")
put("npy", "csv-fallback", "1.5,2\n3,4\n")

# ---------------------------------------------------------------- raw: 1 byte of flags
# (bit 0 f32, bits 1-2 dtype choice, bit 7 huge dims), 8 bytes of dims, then the file.
def raw(flags, dims, payload):
    return bytes([flags]) + struct.pack("<Q", dims) + payload


put("raw", "f64-2cols", raw(0, 2, X))
put("raw", "f64-3cols-to-f32", raw(4, 3, X))
put("raw", "f32-2cols", raw(1, 2, XF))
put("raw", "f32-to-f64", raw(3, 3, XF))
put("raw", "not-whole-rows", raw(0, 4, X))
put("raw", "dims-zero", raw(0, 0, X))
put("raw", "dims-huge", raw(0x80, 2**63 + 1, X))
put("raw", "dims-max", raw(0x81, 2**64 - 1, X))
put("raw", "empty", raw(0, 2, b""))

# ---------------------------------------------------------------- model JSON
HEAD = ('{"format": "emgmm-model", "version": 1, "covariance_type": "%s", '
        '"n_components": %d, "n_features": %d, ')
full = (HEAD % ("full", 2, 2) + '"weights": [0.375, 0.625], "means": [[1.5, -2.385], [0.0625, 7.75]], '
        '"covariances": [[[2.25, 0.3], [0.3, 1.125]], [[0.5, -0.125], [-0.125, 3.5]]], '
        '"converged": true, "n_iter": 7, "lower_bound": -3.25, "tol": 0.001, "reg_covar": 1e-06, '
        '"seed": 18446744073709551615, "max_iter": 100, "n_init": 1, "init": "kmeans", '
        '"emgmm_version": "0.1.0"}')
put("model_json", "full", full)
put("model_json", "tied", HEAD % ("tied", 2, 2) + '"weights": [0.5, 0.5], "means": [[1, 2], [3, 4]], '
    '"covariances": [[2.25, 0.3], [0.3, 1.125]]}')
put("model_json", "diag", HEAD % ("diag", 2, 2) + '"weights": [0.5, 0.5], "means": [[1, 2], [3, 4]], '
    '"covariances": [[2.25, 0.3], [0.5, 3.5]], "lower_bound": null}')
put("model_json", "spherical", HEAD % ("spherical", 3, 1) + '"weights": [0.25, 0.25, 0.5], '
    '"means": [[1], [2], [3]], "covariances": [1, 2, 3]}')
put("model_json", "not-pd", full.replace("[[0.5, -0.125], [-0.125, 3.5]]", "[[0.5, 1.5], [1.5, 3.5]]"))
put("model_json", "asymmetric", full.replace("[[2.25, 0.3], [0.3, 1.125]]", "[[2.25, 0.3], [0.31, 1.125]]"))
put("model_json", "huge-k", HEAD % ("diag", 1048576, 1048576) + '"weights": [1], "means": [[1]], "covariances": [[1]]}')
put("model_json", "huge-number", full.replace("1.5, -2.385", "1e999, -2.385"))
put("model_json", "bad-type", HEAD.replace('"%s"', '"a\\nb"') % (2, 2) + '"weights": [0.5, 0.5]}')
put("model_json", "truncated", full[:100])
put("model_json", "deep", "[" * 3000 + "]" * 3000)
put("model_json", "nonutf8", b'{"format": "emgmm-model\xff"}')
put("model_json", "duplicate-key", '{"format": "emgmm-model", "format": "emgmm-model"}')

# ---------------------------------------------------------------- CLI: NUL-separated arguments
cli = {
    "k-list": ["--k", "1,2,4:6", "data.csv"],
    "k-range": ["-k", "1:20", "--covariance", "diag,full", "x.npy"],
    "k-huge": ["--k", "1:1000000000", "x.csv"],
    "k-backwards": ["--k", "9:1", "x.csv"],
    "numbers": ["--tol", "1e-3", "--reg-covar", "0x1p-20", "--seed", "18446744073709551615", "x"],
    "seed-overflow": ["--seed", "18446744073709551616", "x"],
    "seed-negative": ["--seed", "-1", "x"],
    "tol-overflow": ["--tol", "1e999", "x"],
    "tol-nan": ["--tol", "nan", "x"],
    "data-opts": ["--format", "f32", "--dims", "1073741824", "--dtype", "float32", "--threads", "4096",
                  "--delimiter", "tab", "--header", "x"],
    "dims-overflow": ["--dims", "99999999999999999999", "x"],
    "threads-neg": ["--threads", "-1", "x"],
    "criterion": ["--criterion", "AIC", "-o", "-", "--table", "-", "x"],
    "table-npy": ["--table", "t.NPY", "x"],
    "unknown": ["--frobnicate", "x"],
    "missing-value": ["--k"],
    "help": ["--help"],
    "empty-k": ["--k", ",,,", "x"],
}
for k, args in cli.items():
    put("cli", k, "\0".join(args))
