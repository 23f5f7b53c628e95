"""The two text kernels (pure NumPy, compiled C): the same fields, the same float32 bits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wordvecs
from wordvecs.formats import _kernel, _pykernel
from wordvecs.formats.text import _is_number

_ck = _kernel.compiled_kernel()
KERNELS: list[ModuleType] = [_pykernel] + ([_ck] if _ck is not None else [])
needs_c = pytest.mark.skipif(_ck is None, reason="the compiled kernel is not built")
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _expected_bits(token: str) -> int:
    return int(np.array([np.float32(float(token))], dtype=np.float32).view(np.uint32)[0])


# What follows the row in the buffer: nothing (the compiled kernel's general parser), or enough
# bytes for its 8-bytes-at-a-time fast path, which then reads past the row (digits must not join).
PADDINGS = [b"", b"\n" + b"9" * 64, b" " * 64, b"\n7.5e-3 " * 8]


def _parse(kernel: ModuleType, tokens: list[str], padding: bytes = b"") -> tuple[int, np.ndarray]:
    line = " ".join(tokens).encode()
    out = np.zeros((1, len(tokens)), dtype=np.float32)
    bad, nonfinite = kernel.parse_rows(line + padding, np.array([0]), np.array([len(line)]), out)
    if bad < 0:
        assert nonfinite == out.size - np.isfinite(out).sum(), (kernel.NAME, tokens)
    return bad, out[0]


def _same_bits(got: np.ndarray, tokens: list[str]) -> None:
    for value, token in zip(got.tolist(), tokens):
        want = np.float32(float(token))
        if np.isnan(want):
            assert np.isnan(value), token
        else:
            bits = int(np.array([value], dtype=np.float32).view(np.uint32)[0])
            assert bits == _expected_bits(token), (token, value, float(want))


def _digits(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=min_size, max_size=max_size)


@st.composite
def number_tokens(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["f32", "f64", "long", "subnormal", "special", "exp", "short"]))
    if kind == "f32":
        x = float(draw(st.floats(width=32, allow_nan=False)))
        fmt = draw(st.sampled_from(["repr", "%.5g", "%.8e", "%.17g", "%.9g", "%.3f"]))
    elif kind == "f64":
        x = draw(st.floats(allow_nan=False))
        fmt = draw(st.sampled_from(["repr", "%.5g", "%.8e", "%.17g", "%.16e", "%.15g"]))
    elif kind == "subnormal":
        x = draw(st.floats(min_value=-1.2e-38, max_value=1.2e-38))
        fmt = draw(st.sampled_from(["repr", "%.9g", "%.17g", "%.30e"]))
    else:
        x, fmt = 0.0, ""
    if fmt:
        return repr(x) if fmt == "repr" else fmt % x
    sign = draw(st.sampled_from(["", "-", "+"]))
    if kind == "special":
        word = draw(st.sampled_from(["nan", "inf", "infinity", "NaN", "INF", "Infinity", "0",
                                     "0.0", "0e0", ".0", "0.", "3.4028235e38", "3.4028236e38",
                                     "1e39", "1e-46", "7.006e-46", "7.0065e-46", "1.4e-45"]))
        return sign + word
    if kind == "long":
        a = draw(_digits(1, 40))
        b = draw(_digits(0, 40))
        e = draw(st.integers(-80, 80))
        return f"{sign}{a}.{b}e{e}" if len(a + b) >= 30 or draw(st.booleans()) else f"{sign}{a}{b}"
    if kind == "exp":
        a = draw(_digits(1, 20))
        e = draw(st.integers(-400, 400))
        return f"{sign}{a}{draw(st.sampled_from(['e', 'E']))}{e:+d}"
    a = draw(_digits(0, 6))
    b = draw(_digits(0, 6))
    if not (a or b):
        a = "7"
    return f"{sign}{a}.{b}" if draw(st.booleans()) else f"{sign}{a or b}"


@SETTINGS
@given(st.lists(number_tokens(), min_size=1, max_size=8))
def test_values_are_float32_of_float(tokens: list[str]) -> None:
    for kernel in KERNELS:
        for padding in PADDINGS:
            bad, got = _parse(kernel, tokens, padding)
            assert bad == -1, (kernel.NAME, tokens, padding)
            _same_bits(got, tokens)


@SETTINGS
@given(st.lists(number_tokens(), min_size=1, max_size=8), st.data())
def test_a_span_that_ends_inside_a_token(tokens: list[str], data: st.DataObject) -> None:
    """The row ends where its span ends, even inside a token that goes on in the buffer."""
    line = " ".join(tokens)
    cut = data.draw(st.integers(len(line) - len(tokens[-1]) + 1, len(line)))
    head = line[:cut].split()
    want = head if all(_is_number(t) for t in head) else None
    for kernel in KERNELS:
        for padding in PADDINGS:
            buf = line.encode() + padding
            out = np.zeros((1, len(head)), dtype=np.float32)
            bad, _ = kernel.parse_rows(buf, np.array([0]), np.array([cut]), out)
            if want is None:
                assert bad == 0, (kernel.NAME, line, cut)
            else:
                assert bad == -1, (kernel.NAME, line, cut)
                _same_bits(out[0], want)


@st.composite
def plain_tokens(draw: st.DrawFn) -> str:
    """The form the compiled kernel reads first, and its neighbours: [-]d.ddd with 0 to 17
    digits after the point (up to 15 digits in all are read at once; more go to the general
    parser), now and then a token just outside that form."""
    sign = draw(st.sampled_from(["", "-", "-", "+"]))
    head = draw(st.sampled_from(["0", "0", "1", "9", "12", ""]))
    frac = draw(_digits(0, 17))
    tail = draw(st.sampled_from(["", "", "", "", "e-3", "E+2", "0", "."]))
    token = f"{sign}{head}.{frac}{tail}"
    return token if _is_number(token) else f"{sign}{head or '0'}.{frac}"


@SETTINGS
@given(st.lists(plain_tokens(), min_size=1, max_size=12),
       st.lists(st.sampled_from([" ", " ", " ", "  ", "\t", " \t "]), min_size=11, max_size=11),
       st.sampled_from(["", " ", "  ", "\t"]))
def test_plain_rows_with_any_spacing(tokens: list[str], seps: list[str], trail: str) -> None:
    """Rows of the usual form, one space apart or not, with white space after the last value or
    not: the same float32 bits as float() from both kernels, whatever follows in the buffer."""
    line = tokens[0] + "".join(sep + tok for sep, tok in zip(seps, tokens[1:])) + trail
    for kernel in KERNELS:
        for padding in PADDINGS:
            out = np.zeros((1, len(tokens)), dtype=np.float32)
            bad, _ = kernel.parse_rows(line.encode() + padding, np.array([0]),
                                       np.array([len(line)]), out)
            assert bad == -1, (kernel.NAME, line, padding)
            _same_bits(out[0], tokens)
            if len(tokens) > 1:  # one value too few, or one too many, for the row
                short = np.zeros((1, len(tokens) + 1), dtype=np.float32)
                long = np.zeros((1, len(tokens) - 1), dtype=np.float32)
                for arr in (short, long):
                    bad, _ = kernel.parse_rows(line.encode() + padding, np.array([0]),
                                               np.array([len(line)]), arr)
                    assert bad == 0, (kernel.NAME, line, arr.shape)


@pytest.mark.parametrize("token", ["1e999999999999999999999", "-1e-999999999999999999", "-0",
                                   "-0.0e-5", "1" * 400, "0." + "0" * 350 + "1e300",
                                   "9007199254740993", "179769313486231580793728971405301e276",
                                   "2.4703282292062328e-324", "1e23", "8.5e37", "123456789e30",
                                   # 16 digits past 2**53, where mant / 10**15 rounds wrongly
                                   "9.140670299530029", "-9.765423297882081",
                                   # 16 bytes to the exponent: a token that fills the 16 bytes
                                   # the compiled kernel looks at for the next space
                                   "1.40737488355321e+15", "2.00000000000000E-3"])
def test_edge_values(token: str) -> None:
    for kernel in KERNELS:
        for padding in PADDINGS:
            bad, got = _parse(kernel, [token, "1"], padding)
            assert bad == -1, (kernel.NAME, token)
            _same_bits(got, [token, "1"])


BAD_TOKENS = ["1_000", "0x10", "1e", "e5", ".", "+", "-", "1e+", "--1", "1.5.3", "nan(1)",
              "infinit", "infinityy", "1,5", "abc", "1e5x", "１", "1d5", "in", "nana", "+-1"]


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_bad_tokens_give_the_same_row(token: str) -> None:
    with pytest.raises(ValueError):
        if "_" in token:
            raise ValueError
        float(token.encode())  # the kernels read bytes: non-ASCII digits are not numbers
    lines = [b"1 2 3", b"4 5 6", f"7 {token} 9".encode(), b"1 2 3"]
    buf = b"\n".join(lines)
    starts, ends, pos = [], [], 0
    for line in lines:
        starts.append(pos)
        ends.append(pos + len(line))
        pos += len(line) + 1
    for kernel in KERNELS:
        for padding in PADDINGS:
            out = np.zeros((4, 3), dtype=np.float32)
            bad, _ = kernel.parse_rows(buf + padding, np.array(starts), np.array(ends), out)
            assert bad == 2, (kernel.NAME, padding)
            assert out[:2].tolist() == [[1, 2, 3], [4, 5, 6]]


_WS = st.sampled_from([" ", "  ", "\t", " \t", "\r", "\x0b", "\x0c"])


@st.composite
def text_lines(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["row", "row", "blank", "spaced", "short", "junk"]))
    if kind == "blank":
        return draw(st.sampled_from(["", " ", "\t", "\r", " \r"]))
    if kind == "junk":
        return draw(st.text(st.sampled_from("ab 1.\t\r\x0b\x0c-e"), max_size=20))
    n = 3 if kind in ("row", "spaced") else draw(st.integers(0, 2))
    word = draw(st.text("abcé", min_size=1, max_size=5))
    if kind == "spaced":
        word = word + draw(_WS) + draw(st.sampled_from(["x", "1", "2.5", "w"]))
    lead = draw(st.sampled_from(["", "", " ", "\t"]))
    parts = [lead + word] + [str(draw(st.integers(-9, 9))) for _ in range(n)]
    line = ""
    for i, p in enumerate(parts):
        line += (draw(_WS) if i else "") + p
    return line + draw(st.sampled_from(["", "", " ", "\r", " \r", "\t"]))


@needs_c
@SETTINGS
@given(st.lists(text_lines(), max_size=12), st.booleans())
def test_scan_lines_agree(lines: list[str], final_newline: bool) -> None:
    buf = "\n".join(lines).encode() + (b"\n" if final_newline and lines else b"")
    py = _pykernel.scan_lines(buf, 3)
    c = _ck.scan_lines(buf, 3)  # type: ignore[union-attr]
    for a, b in zip(py, c):
        assert a.dtype == b.dtype == np.int64
        assert a.tolist() == b.tolist(), buf
    good = np.flatnonzero(py[4] > 3)
    results = []
    for kernel in KERNELS:
        out = np.zeros((good.size, 3), dtype=np.float32)
        bad, _ = kernel.parse_rows(buf, py[2][good], py[3][good], out)
        results.append((bad, out[: bad if bad >= 0 else good.size].tobytes()))
    assert all(r == results[0] for r in results)


@needs_c
def test_parse_rows_threads_find_the_first_bad_row() -> None:
    rng = np.random.default_rng(1)
    m = rng.standard_normal((40_000, 10)).astype(np.float32)
    lines = [" ".join(f"{v:.6g}" for v in row) for row in m.tolist()]
    special = {100: "inf", 30_000: "nan", 39_500: "-inf"}  # counted only before the bad row
    for row, token in special.items():
        lines[row] = token + lines[row][lines[row].index(" "):]
    for bad_row in (5, 25_000, 39_999):
        bad_lines = list(lines)
        bad_lines[bad_row] = bad_lines[bad_row].replace(" ", " x", 1)
        bad_lines[39_000] = bad_lines[39_000].replace(" ", " y", 1)
        buf = "\n".join(bad_lines).encode()
        ends = np.cumsum([len(s) + 1 for s in bad_lines]) - 1
        starts = ends - [len(s) for s in bad_lines]
        for kernel in KERNELS:
            out = np.empty_like(m)
            first = min(bad_row, 39_000)
            nonfinite = sum(row < first for row in special)
            assert kernel.parse_rows(buf, starts, ends, out) == (first, nonfinite)
            assert np.array_equal(out[:first], np.float32(
                [[float(t) for t in s.split()] for s in bad_lines[:first]]
            ).reshape(-1, 10), equal_nan=True)


def _write_file(path: Path) -> None:
    rng = np.random.default_rng(7)
    m = rng.standard_normal((3000, 12)) * 10.0 ** rng.integers(-8, 4, (3000, 12))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for i, row in enumerate(m.tolist()):
            vals = " ".join(("%.5g" if (i + j) % 2 else "%.8e") % v for j, v in enumerate(row))
            word = ["w", "naïve", "the word", "x"][i % 4] + str(i)
            fh.write(f"{word} {vals}{' ' if i % 7 == 0 else ''}{chr(13) if i % 5 == 0 else ''}\n")
            if i % 100 == 0:
                fh.write("\n")


@needs_c
@pytest.mark.parametrize("vocab", [None, 300])
def test_load_same_with_both_kernels(tmp_path: Path, vocab: int | None) -> None:
    path = tmp_path / "v.txt"
    _write_file(path)
    words = None if vocab is None else [f"w{i}" for i in range(0, 3000, 4)][:vocab]
    results = []
    try:
        for name in ("c", "python"):
            _kernel.set_kernel(name)
            results.append(wordvecs.load(path, format="glove", vocab=words, progress=False))
    finally:
        _kernel.set_kernel(None)
    a, b = results
    assert a.words == b.words
    assert a.matrix.dtype == b.matrix.dtype == np.float32
    assert a.matrix.tobytes() == b.matrix.tobytes()
    assert len(a) == (3000 if vocab is None else 300)
    assert "the word2" in a.words or vocab is not None


def test_pure_python_install_loads(tmp_path: Path) -> None:
    path = tmp_path / "v.txt"
    _write_file(path)
    code = ("import wordvecs, sys; from wordvecs.formats import _kernel;"
            "v = wordvecs.load(sys.argv[1], format='glove', progress=False);"
            "assert _kernel.get_kernel().NAME == 'python', _kernel.get_kernel().NAME;"
            "print(len(v), v.dim, float(v.matrix.sum()))")
    env = dict(os.environ, WORDVECS_PURE_PYTHON="1")
    res = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True,
                         text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    n, dim, _ = res.stdout.split()
    assert (int(n), int(dim)) == (3000, 12)


def test_skip_a_bad_row_then_parse_the_rest(tmp_path: Path, kernel: str) -> None:
    path = tmp_path / "v.txt"
    path.write_bytes(b"the 1 2\nof 3 x4\nto 7 8\nin 9 10\n")
    with pytest.warns(wordvecs.WordvecsWarning, match="1 bad line"):
        v = wordvecs.load(path, format="glove", on_bad_line="skip", progress=False)
    assert v.words == ["the", "to", "in"]
    assert v.matrix.tolist() == [[1, 2], [7, 8], [9, 10]]


# --- word2vec binary and the exact duplicate check --------------------------------------------

@needs_c
@SETTINGS
@given(data=st.binary(max_size=300), dim=st.integers(1, 4), pos=st.integers(0, 20),
       max_entries=st.integers(0, 50), max_word=st.integers(1, 40))
def test_scan_binary_agrees(data: bytes, dim: int, pos: int, max_entries: int,
                            max_word: int) -> None:
    """Any bytes (spaces, \\n and \\r made common): the same entries, stop and status."""
    data = data.replace(b"\x01", b" ").replace(b"\x02", b"\n").replace(b"\x03", b"\r")
    pos = min(pos, len(data))
    got = [k.scan_binary(data, pos, dim, max_entries, max_word) for k in KERNELS]
    py, c = got
    assert py[0].tolist() == c[0].tolist() and py[1].tolist() == c[1].tolist()
    assert py[2:] == c[2:]
    assert len(py[0]) <= max_entries


def test_scan_binary_entries() -> None:
    row = np.float32([1, 2]).tobytes()
    buf = b"\r\na " + row + b"\rbc " + row + b"d"
    for k in KERNELS:
        ws, we, nxt, status = k.scan_binary(buf, 0, 2, 10, 100)
        assert ws.tolist() == [2, 13] and we.tolist() == [3, 15]
        assert (nxt, status) == (24, 0)  # "d": an entry the buffer ends in
        assert k.scan_binary(buf, 0, 2, 1, 100)[2:] == (12, 2)
        assert k.scan_binary(b"x" * 50, 0, 2, 10, 40)[2:] == (0, 1)  # no space in 40 bytes
        out = np.zeros((2, 2), dtype=np.float32)
        k.copy_rows(buf, we + 1, out)
        np.testing.assert_array_equal(out, [[1, 2], [1, 2]])


@SETTINGS
@given(words=st.lists(st.binary(max_size=4), min_size=1, max_size=30), data=st.data())
def test_same_words_is_bytes_equality(words: list[bytes], data: st.DataObject) -> None:
    offsets = np.zeros(len(words) + 1, dtype=np.int32)
    np.cumsum([len(w) for w in words], out=offsets[1:])
    idx = st.integers(0, len(words) - 1)
    a = np.asarray(data.draw(st.lists(idx, max_size=40)), dtype=np.int64)
    b = np.asarray(data.draw(st.lists(idx, min_size=len(a), max_size=len(a))), dtype=np.int64)
    expected = [words[i] == words[j] for i, j in zip(a.tolist(), b.tolist())]
    for k in KERNELS:
        assert k.same_words(b"".join(words), offsets, a, b).tolist() == expected


@SETTINGS
@given(buf=st.binary(max_size=40), data=st.data())
def test_gather_spans_is_the_spans_joined(buf: bytes, data: st.DataObject) -> None:
    span = st.integers(0, len(buf)).flatmap(lambda s: st.tuples(st.just(s),
                                                                st.integers(0, len(buf) - s)))
    spans = data.draw(st.lists(span, max_size=12))
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    lens = np.array([n for _, n in spans], dtype=np.int64)
    for k in KERNELS:
        joined, offsets = k.gather_spans(buf, starts, lens)
        assert joined.dtype == np.uint8 and offsets.dtype == np.int32, k.NAME
        assert joined.tobytes() == b"".join(buf[s:s + n] for s, n in spans), k.NAME
        assert offsets.tolist() == np.concatenate([[0], np.cumsum(lens)]).tolist(), k.NAME


@pytest.mark.parametrize("starts, lens", [([3], [2]), ([-1], [1]), ([0], [-1]), ([5], [0]),
                                          ([0, 1], [1])])
def test_gather_spans_refuses_a_span_outside(starts: list[int], lens: list[int]) -> None:
    for k in KERNELS:
        with pytest.raises(ValueError):
            k.gather_spans(b"abcd", np.array(starts), np.array(lens))


@SETTINGS
@given(st.lists(st.sampled_from([0, 1, 2, 2**64 - 1, 2**63, 12345]) | st.integers(0, 2**64 - 1),
                max_size=40))
def test_any_equal_finds_a_repeat(values: list[int]) -> None:
    h = np.array(values, dtype=np.uint64)
    for k in KERNELS:
        assert k.any_equal(h) == (len(set(values)) < len(values)), (k.NAME, values)


def test_any_equal_on_many_hashes() -> None:
    """Enough values to fill the compiled kernel's table well past its first probes."""
    h = np.random.default_rng(0).integers(0, 2**63, 300_000, dtype=np.uint64) * np.uint64(2)
    for k in KERNELS:
        assert not k.any_equal(np.unique(h)), k.NAME
        assert k.any_equal(np.concatenate([np.unique(h), h[123_456:123_457]])), k.NAME


@needs_c
def test_scan_lines_on_several_threads_agrees(tmp_path: Path) -> None:
    """The scan shares a buffer out by lines over a quarter of the cores: with eight cores named
    it runs on two threads, and gives what the NumPy kernel gives."""
    rng = np.random.default_rng(5)
    rows = [f"w{i} " + " ".join(f"{x:.5g}" for x in rng.standard_normal(3)) for i in range(100_000)]
    rows[70_000] = "short 1"  # a bad line in the second thread's half
    rows[20_001] = ""
    path = tmp_path / "buf.txt"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code = ("import sys, numpy as np\n"
            "from wordvecs import _ckernel\n"
            "from wordvecs.formats import _pykernel\n"
            "buf = open(sys.argv[1], 'rb').read()\n"
            "assert len(buf) > 2 << 20\n"
            "c, py = _ckernel.scan_lines(buf, 3), _pykernel.scan_lines(buf, 3)\n"
            "print(all(np.array_equal(a, b) for a, b in zip(c, py)))\n")
    env = {**os.environ, "WORDVECS_THREADS": "8",
           "PYTHONPATH": str(Path(wordvecs.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True"]
