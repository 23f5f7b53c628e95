"""Saving a store where ``renameat2`` is missing (not Linux, an old kernel, a file system that
refuses RENAME_EXCHANGE): the old store is renamed aside, then the new one takes its name.

The system call is made unavailable three ways: no ``renameat2`` at all (``_RENAMEAT2 = None``),
and one that fails with ENOSYS or EINVAL as the kernel or the file system does. In every case a
save or a replace must leave one complete store (the old or the new), never delete a folder
wordvecs did not write, and never leave the old store only under a name that the clean-up of
stale temporaries removes. The race with another process that swaps a foreign folder in after
the checks is tested with and without ``renameat2``.
"""

from __future__ import annotations

import ctypes
import errno
import os

import numpy as np
import pytest

import wordvecs
from wordvecs import Vectors, _atomic
from wordvecs.errors import WriteError
from wordvecs.formats import store as store_mod


def _vectors(n: int, dim: int = 3) -> Vectors:
    m = np.arange(n * dim, dtype=np.float32).reshape(n, dim) + n
    return Vectors([f"w{i}" for i in range(n)], m)


def _tree(path) -> dict[str, bytes]:
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p.relative_to(path)): p.read_bytes() for p in files}


def _failing(code: int):
    def renameat2(*_args: object) -> int:
        ctypes.set_errno(code)
        return -1

    return renameat2


FALLBACKS = {"missing": None, "ENOSYS": _failing(errno.ENOSYS), "EINVAL": _failing(errno.EINVAL)}


@pytest.fixture(params=sorted(FALLBACKS))
def no_renameat2(request, monkeypatch):
    """``_atomic`` as it runs where renameat2 cannot be used; also that the real call is never
    made (a call of the real function would bypass the fallback under test)."""
    monkeypatch.setattr(_atomic, "_RENAMEAT2", FALLBACKS[request.param])
    return request.param


@pytest.fixture(params=["renameat2", "fallback"])
def either(request, monkeypatch):
    if request.param == "fallback":
        monkeypatch.setattr(_atomic, "_RENAMEAT2", None)
    elif _atomic._RENAMEAT2 is None:
        pytest.skip("this system has no renameat2")
    return request.param


def test_the_fallback_is_what_runs(no_renameat2, tmp_path):
    assert _atomic._rename(tmp_path / "a", tmp_path / "b", _atomic._NOREPLACE) is False


def test_save_and_replace_without_renameat2(no_renameat2, tmp_path):
    path = tmp_path / "s.wv"
    _vectors(5).save(path)
    with pytest.raises(WriteError, match="already there; pass overwrite=True"):
        _vectors(2).save(path)
    assert wordvecs.load(path, verify=True).words == _vectors(5).words
    _vectors(2).save(path, overwrite=True)
    got = wordvecs.load(path, verify=True)
    assert got.words == ["w0", "w1"]
    np.testing.assert_array_equal(got.matrix, _vectors(2).matrix)
    assert [p.name for p in tmp_path.iterdir()] == ["s.wv"]  # nothing left aside


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_foreign_folder_is_never_replaced_without_renameat2(no_renameat2, tmp_path, overwrite):
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "a").write_text("keep")
    (d / "b.txt").write_text("keep too")
    before = _tree(d)
    with pytest.raises(WriteError, match="is a folder that is not a wordvecs store"):
        _vectors(5).save(d, overwrite=overwrite)
    assert _tree(d) == before
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_a_folder_made_after_the_last_check_is_kept_and_named(no_renameat2, tmp_path,
                                                              monkeypatch):
    """Another process makes the destination, with its files, between the last check and the
    rename: the rename fails; the error says what is there (as with renameat2's NOREPLACE),
    their files are kept, nothing of ours is left."""
    dst = tmp_path / "s.wv"
    real = _atomic.check_destination
    calls = []

    def check_then_race(path, **kw):
        calls.append(path)
        there = real(path, **kw)
        if len(calls) == 2:  # the check in _put_in_place, just before the rename
            dst.mkdir()
            (dst / "theirs").write_text("theirs")
        return there

    monkeypatch.setattr(_atomic, "check_destination", check_then_race)
    with pytest.raises(WriteError, match=f"{dst}: is a folder that is not a wordvecs store"):
        _vectors(5).save(dst)
    assert len(calls) == 3  # checked again after the failed rename
    assert _tree(dst) == {"theirs": b"theirs"}
    assert [p.name for p in tmp_path.iterdir()] == ["s.wv"]


def test_a_failed_last_rename_puts_the_old_store_back(no_renameat2, tmp_path, monkeypatch):
    """The old store is aside and the new one cannot take its name (an I/O error): the old one
    goes back under its name; no store is lost, nothing is left aside."""
    path = tmp_path / "s.wv"
    _vectors(5).save(path)
    real_rename = os.rename

    def rename(src, dst, *a, **k):
        if os.fspath(dst) == os.fspath(path) and ".tmp-" in os.path.basename(os.fspath(src)):
            raise OSError(errno.EIO, "Input/output error", os.fspath(dst))
        return real_rename(src, dst, *a, **k)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(WriteError, match=f"cannot write {path}: input/output error"):
        _vectors(2).save(path, overwrite=True)
    monkeypatch.undo()
    assert wordvecs.load(path, verify=True).words == _vectors(5).words
    assert [p.name for p in tmp_path.iterdir()] == ["s.wv"]


def test_an_old_store_that_cannot_go_back_is_kept_aside_not_as_a_temporary(
        no_renameat2, tmp_path, monkeypatch):
    """Both renames after the first fail: the old store stays aside under a name that the
    clean-up of stale temporaries never matches, and the error says where it is."""
    path = tmp_path / "s.wv"
    _vectors(5).save(path)
    real_rename = os.rename

    def rename(src, dst, *a, **k):
        if os.fspath(dst) == os.fspath(path):
            raise OSError(errno.EIO, "Input/output error", os.fspath(dst))
        return real_rename(src, dst, *a, **k)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(WriteError, match="the old store is kept at") as err:
        _vectors(2).save(path, overwrite=True)
    monkeypatch.undo()
    [aside] = list(tmp_path.iterdir())
    assert str(aside) in str(err.value)
    assert _atomic.clean_stale(path, max_age=-1) == []  # not a temporary, whatever its age
    assert wordvecs.load(aside, verify=True).words == _vectors(5).words


def test_a_foreign_folder_swapped_in_after_the_check_is_not_deleted(either, tmp_path,
                                                                    monkeypatch):
    """Between the last check and the rename, another process puts a folder of its own where
    the old store was: it is put back, not deleted, and the save fails."""
    path = tmp_path / "s.wv"
    _vectors(5).save(path)
    real = store_mod.is_our_store
    calls = []

    def is_our_store(p):
        ours = real(p)
        calls.append(p)
        if len(calls) == 2:  # the check just before the rename: now the race
            os.rename(path, tmp_path / "moved-away")
            path.mkdir()
            (path / "theirs.txt").write_text("theirs")
        return ours

    monkeypatch.setattr(store_mod, "is_our_store", is_our_store)
    with pytest.raises(WriteError, match="is a folder that is not a wordvecs store"):
        _vectors(2).save(path, overwrite=True)
    assert _tree(path) == {"theirs.txt": b"theirs"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moved-away", "s.wv"]


@pytest.mark.skipif(_atomic._RENAMEAT2 is None, reason="this system has no renameat2")
def test_a_swapped_in_folder_that_cannot_go_back_is_kept_aside(tmp_path, monkeypatch):
    """As above, and the exchange that puts theirs back fails: theirs is moved out of the way
    of the removal of our temporary, and the error says where it is."""
    path = tmp_path / "s.wv"
    _vectors(5).save(path)
    real, real_call = store_mod.is_our_store, _atomic._RENAMEAT2
    calls, exchanges = [], []

    def is_our_store(p):
        ours = real(p)
        calls.append(p)
        if len(calls) == 2:
            os.rename(path, tmp_path / "moved-away")
            path.mkdir()
            (path / "theirs.txt").write_text("theirs")
        return ours

    def renameat2(a, src, b, dst, flags):
        if flags == _atomic._EXCHANGE:
            exchanges.append(src)
            if len(exchanges) == 2:
                ctypes.set_errno(errno.EIO)
                return -1
        return real_call(a, src, b, dst, flags)

    monkeypatch.setattr(store_mod, "is_our_store", is_our_store)
    monkeypatch.setattr(_atomic, "_RENAMEAT2", renameat2)
    with pytest.raises(WriteError, match="something else was put there meanwhile") as err:
        _vectors(2).save(path, overwrite=True)
    [aside] = [p for p in tmp_path.iterdir() if ".old-" in p.name]
    assert str(aside) in str(err.value)
    assert _tree(aside) == {"theirs.txt": b"theirs"}
    assert wordvecs.load(path).words == ["w0", "w1"]  # ours took the name; theirs is kept
