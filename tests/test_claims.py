"""Claims of the README and docs/ that had no test: each is checked here, against a peer where one
exists.

docs/development.md lists every claim of the README and the documentation and the test or
benchmark behind it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

import wordvecs
from wordvecs.errors import WordvecsError

ROOT = Path(__file__).resolve().parents[1]
linux_proc = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")


def _run(code: str, cwd: Path, pythonpath: str = str(ROOT / "src"), **env: str) -> dict:
    full_env = {**os.environ, "PYTHONPATH": pythonpath, **env}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, env=full_env, cwd=cwd, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- limit= on word2vec text, against gensim -----------------------------------------------------
@pytest.mark.parametrize("limit", [1, 37, 300, 1000])
def test_limit_word2vec_text_equals_gensim(tmp_path, glove50, kernel, limit):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(50)
    kv.add_vectors(glove50.words[:300], glove50.matrix[:300])
    path = tmp_path / "v.vec"
    kv.save_word2vec_format(str(path), binary=False)
    theirs = KeyedVectors.load_word2vec_format(str(path), binary=False, limit=limit)
    ours = wordvecs.load(path, limit=limit)
    assert ours.format == "word2vec"
    assert ours.words == theirs.index_to_key
    assert ours.matrix.tobytes() == theirs.vectors.tobytes()


# --- encoding= other than UTF-8 ------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
@pytest.mark.parametrize("header", [False, True])
def test_encoding_latin1_and_cp1252(tmp_path, kernel, encoding, header):
    words = ["café", "naïve", "Ärger", "smørrebrød", "plain", "señor"]
    if encoding == "cp1252":
        words += ["€uro", "Œuvre", "en–dash", "“quoted”"]  # bytes 0x80-0x9f: cp1252 only
    rng = np.random.default_rng(0)
    values = rng.standard_normal((len(words), 3)).astype(np.float32)
    lines = [f"{w} " + " ".join(f"{x:.6g}" for x in row) for w, row in zip(words, values)]
    text = (f"{len(words)} 3\n" if header else "") + "\n".join(lines) + "\n"
    raw = text.encode(encoding)
    assert raw.decode(encoding) == text
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # so the default must refuse it
    path = tmp_path / "v.txt"
    path.write_bytes(raw)
    v = wordvecs.load(path, encoding=encoding)
    # Python's own decoding of each line: the word, then np.float32(float(token))
    body = raw.decode(encoding).splitlines()[1 if header else 0:]
    assert v.words == [line.split(" ")[0] for line in body]
    expected = np.array([[np.float32(float(t)) for t in line.split(" ")[1:]] for line in body])
    assert v.matrix.tobytes() == expected.astype(np.float32).tobytes()
    with pytest.raises(WordvecsError, match="utf-8"):
        wordvecs.load(path)


# --- memory with vocab= --------------------------------------------------------------------------
@linux_proc
def test_vocab_memory_grows_with_words_kept(tmp_path):
    """A ~100 MB file (110,000 x 100): the peak RSS growth of a read keeping 1,000 words (after a
    warm-up read of a small file, so that code paged in once is not counted) is a small fraction
    of the 44 MB matrix, while a full read grows by at least the matrix (the probe sees it)."""
    rows, dim = 110_000, 100
    rng = np.random.default_rng(0)
    bodies = [" ".join(f"{x:.5f}" for x in r) for r in rng.standard_normal((1000, dim))]
    path = tmp_path / "big.txt"
    with open(path, "w", encoding="ascii") as fh:
        for start in range(0, rows, 10_000):
            fh.write("".join(f"w{i} {bodies[i % 1000]}\n" for i in range(start, start + 10_000)))
    assert path.stat().st_size > 90e6
    with open(path, encoding="ascii") as src:
        (tmp_path / "small.txt").write_text("".join(next(src) for _ in range(3000)))
    matrix_bytes = rows * dim * 4
    vocab = [f"w{i}" for i in range(0, rows, rows // 1000)][:1000]
    (tmp_path / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    probe = """
        import json, sys
        import numpy, pyarrow, wordvecs
        def status(key):
            with open("/proc/self/status") as fh:
                return next(int(l.split()[1]) * 1024 for l in fh if l.startswith(key + ":"))
        vocab = json.load(open("vocab.json")) if sys.argv[-1] == "vocab" else None
        wordvecs.load("small.txt", vocab=vocab)  # page in the code a read runs, warm the pools
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")  # reset the peak (VmHWM) to the current RSS
        except OSError:
            print(json.dumps({"skip": "cannot reset VmHWM here"}))
            sys.exit(0)
        before = status("VmRSS")
        v = wordvecs.load("big.txt", vocab=vocab)
        print(json.dumps({"rows": len(v), "growth": status("VmHWM") - before,
                          "first": v.words[0], "row0": v.matrix[0, :3].tolist()}))
    """
    results = {}
    for mode in ("vocab", "full"):
        out = subprocess.run([sys.executable, "-c", textwrap.dedent(probe), mode],
                             capture_output=True, text=True, cwd=tmp_path, timeout=300,
                             env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
        assert out.returncode == 0, out.stderr
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        if "skip" in results[mode]:
            pytest.skip(results[mode]["skip"])
    assert results["vocab"]["rows"] == 1000 and results["full"]["rows"] == rows
    assert results["vocab"]["row0"] == results["full"]["row0"]
    assert results["full"]["growth"] >= matrix_bytes  # the probe sees a matrix being built
    assert results["vocab"]["growth"] <= matrix_bytes / 5, results


# --- the store's words are memory-mapped ---------------------------------------------------------
@linux_proc
def test_store_words_memory_mapped_on_open(tmp_path):
    """Opening a store with 300,000 words (words.arrow ~12 MB) allocates nothing in Arrow's pool,
    and the word array's buffers lie inside the mapping of words.arrow (/proc/self/maps)."""
    n = 300_000
    words = [f"word-{i:07d}-{'x' * (i % 50)}" for i in range(n)]
    wordvecs.Vectors(words, np.zeros((n, 2), np.float32)).save(tmp_path / "s.wv")
    size = (tmp_path / "s.wv" / "words.arrow").stat().st_size
    assert size > 10e6
    res = _run("""
        import json, os
        import pyarrow as pa, wordvecs
        path = os.path.realpath("s.wv/words.arrow")
        pool_before = pa.total_allocated_bytes()
        v = wordvecs.load("s.wv")
        pool = pa.total_allocated_bytes() - pool_before
        maps = []
        with open("/proc/self/maps") as fh:
            for line in fh:
                if line.rstrip().endswith(path):
                    lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                    maps.append((lo, hi))
        arr = v._arrow
        inside = [any(lo <= b.address and b.address + b.size <= hi for lo, hi in maps)
                  for b in arr.buffers() if b is not None]
        print(json.dumps({"pool": pool, "maps": len(maps), "inside": inside,
                          "n": len(v), "last": v.words[-1]}))
    """, tmp_path)
    assert res["n"] == n and res["last"] == words[-1]
    assert res["maps"] >= 1
    assert res["inside"] and all(res["inside"])  # offsets and characters: the mapped file
    assert res["pool"] < 64 * 1024  # no copy of the words (a copy would be ~12 MB)


# --- installs without a C compiler ---------------------------------------------------------------
@pytest.mark.slow
def test_install_without_a_c_compiler(tmp_path, glove50):
    """Build the wheel in a copy of the project with CC=/bin/false: the optional extension fails,
    the wheel has no compiled kernel, and the installed package reads with the NumPy kernel,
    giving the compiled kernel's values bit for bit."""
    pytest.importorskip("setuptools")
    proj = tmp_path / "proj"
    proj.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, proj / name)
    shutil.copytree(ROOT / "src", proj / "src",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__", "*.egg-info"))
    env = {**os.environ, "CC": "/bin/false", "CXX": "/bin/false", "LDSHARED": "/bin/false"}
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "--no-build-isolation", "--no-index", "-q", "-w", "dist", "."],
                           cwd=proj, env=env, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    (wheel,) = (proj / "dist").glob("wordvecs-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert "wordvecs/formats/_pykernel.py" in names
        assert not [n for n in names if n.endswith((".so", ".pyd"))]
        zf.extractall(tmp_path / "site")
    sample = wordvecs.load(glove50, limit=2000)
    sample.save(tmp_path / "g.txt", format="glove")
    res = _run("""
        import json
        import numpy as np
        import wordvecs
        from wordvecs.formats import _kernel, _pykernel
        v = wordvecs.load("g.txt")
        np.save("m.npy", v.matrix, allow_pickle=False)
        print(json.dumps({"file": wordvecs.__file__,
                          "compiled": _kernel.compiled_kernel() is not None,
                          "numpy_kernel": _kernel.get_kernel() is _pykernel, "words": v.words}))
    """, tmp_path, pythonpath=str(tmp_path / "site"))
    assert res["file"].startswith(str(tmp_path / "site"))
    assert not res["compiled"] and res["numpy_kernel"]
    from wordvecs.formats import _kernel

    if _kernel.compiled_kernel() is not None:
        _kernel.set_kernel("c")
    try:
        here = wordvecs.load(tmp_path / "g.txt")
    finally:
        _kernel.set_kernel(None)
    assert res["words"] == here.words == sample.words
    got = np.load(tmp_path / "m.npy", allow_pickle=False)
    assert got.tobytes() == here.matrix.tobytes() == sample.matrix.tobytes()


# --- tests never touch the network ---------------------------------------------------------------
def test_network_is_blocked():
    """conftest.py blocks every non-loopback connection and lookup for the whole session."""
    with pytest.raises(RuntimeError, match="never touch the network"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1: never routed
    with pytest.raises(RuntimeError, match="never touch the network"):
        socket.getaddrinfo("pypi.org", 443)
    with pytest.raises(RuntimeError, match="never touch the network"):
        urllib.request.urlopen("http://example.com/", timeout=1)
    with socket.socket(socket.AF_INET6 if socket.has_ipv6 else socket.AF_INET,
                       socket.SOCK_DGRAM) as udp, pytest.raises(RuntimeError, match="network"):
        udp.sendto(b"x", ("2001:db8::1" if socket.has_ipv6 else "192.0.2.1", 53))
    # loopback still works: a server this test starts
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("localhost", port), timeout=5) as client:
            conn, _ = server.accept()
            with conn:
                client.sendall(b"ok")
                assert conn.recv(2) == b"ok"
