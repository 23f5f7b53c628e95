"""gensim 4.4's own ``gensim/test/test_keyedvectors.py``, pointed at ``wordvecs.load`` and
:class:`~wordvecs.Vectors` (issue 24: gensim parity).

Every case that applies is here with every one of its assertions kept (``self.assertEqual(a, b)``
written ``assert a == b``); ``KeyedVectors.load_word2vec_format(path)`` is ``wordvecs.load(path)``,
``KeyedVectors(n)`` an empty ``Vectors``, ``save_word2vec_format`` is ``Vectors.save``. Most cases
also run the same call on a gensim ``KeyedVectors`` of the same file (the peer) and require the
same words and similarities within 1e-6.

Left out (6 of gensim's 33 cases), because wordvecs has no such thing:

* ``test_vectors_for_all_with_copy_vecattrs``, ``test_vectors_for_all_without_copy_vecattrs``:
  gensim's per-key attributes (``get_vecattr``, ``copy_vecattrs``); wordvecs keeps no counts.
* ``test_load_model_and_vocab_file_strict`` / ``_replace`` / ``_ignore``: gensim's ``fvocab``
  (a separate word-count file) read into ``get_vecattr(w, 'count')``; wordvecs reads no count
  file. (Undecodable words themselves are covered by ``load(errors=...)`` in test_formats.py.)
* ``Gensim320Test``: unpickling a gensim 3.2 ``KeyedVectors`` object (gensim's own pickles).

Adapted: ``LoadWord2VecFormatTest`` calls gensim's private ``_load_word2vec_format`` with a
``binary_chunk_size``, a knob of gensim's reader; here each file is read by ``wordvecs.load``
(with ``limit``) once, checked against the same expectations.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from gensim.models.keyedvectors import KeyedVectors, pseudorandom_weak_vector
from gensim.test.utils import datapath

import wordvecs
from wordvecs import Vectors

REAL = np.float32

# gensim's most_similar_cosmul calls its own deprecated init_sims (the peer, not wordvecs)
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated `init_sims`")


def empty(dim: int) -> Vectors:
    """gensim's ``KeyedVectors(dim)``: no words yet."""
    return Vectors([], np.empty((0, dim), dtype=np.float32))


@pytest.fixture
def vectors() -> Vectors:
    return wordvecs.load(datapath("euclidean_vectors.bin"))


@pytest.fixture
def peer() -> KeyedVectors:
    return KeyedVectors.load_word2vec_format(datapath("euclidean_vectors.bin"), binary=True)


def same(ours, theirs) -> None:
    """The same words in the same order, similarities within 1e-6."""
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=0, atol=1e-6)


# --- TestKeyedVectors -----------------------------------------------------------------------------
def test_most_similar(vectors, peer):
    """Test most_similar returns expected results."""
    expected = ['conflict', 'administration', 'terrorism', 'call', 'israel']
    predicted = [result[0] for result in vectors.most_similar('war', topn=5)]
    assert expected == predicted
    same(vectors.most_similar('war', topn=5), peer.most_similar('war', topn=5))


def test_most_similar_vector(vectors, peer):
    """Can we pass vectors to most_similar directly?"""
    positive = vectors.vectors[0:5]
    most_similar = vectors.most_similar(positive=positive)
    assert most_similar is not None
    # gensim takes each row of a 2-D array as one vector
    same(most_similar, peer.most_similar(positive=peer.vectors[0:5]))
    same(vectors.most_similar(positive=positive[:2], negative=vectors.vectors[7:9], topn=20),
         peer.most_similar(positive=peer.vectors[0:2], negative=peer.vectors[7:9], topn=20))
    same(vectors.most_similar_cosmul(positive=positive, topn=20),
         peer.most_similar_cosmul(positive=peer.vectors[0:5], topn=20))


def test_most_similar_parameter_types(vectors):
    """Are the positive/negative parameter types are getting interpreted correctly?"""
    partial = functools.partial(vectors.most_similar, topn=5)

    position = partial('war', 'peace')
    position_list = partial(['war'], ['peace'])
    keyword = partial(positive='war', negative='peace')
    keyword_list = partial(positive=['war'], negative=['peace'])

    #
    # The above calls should all yield identical results.
    #
    assert position == position_list
    assert position == keyword
    assert position == keyword_list


def test_most_similar_cosmul_parameter_types(vectors, peer):
    """Are the positive/negative parameter types are getting interpreted correctly?"""
    partial = functools.partial(vectors.most_similar_cosmul, topn=5)

    position = partial('war', 'peace')
    position_list = partial(['war'], ['peace'])
    keyword = partial(positive='war', negative='peace')
    keyword_list = partial(positive=['war'], negative=['peace'])

    #
    # The above calls should all yield identical results.
    #
    assert position == position_list
    assert position == keyword
    assert position == keyword_list
    same(position, peer.most_similar_cosmul('war', 'peace', topn=5))


def test_vectors_for_all_list(vectors):
    """Test vectors_for_all returns expected results with a list of keys."""
    words = [
        'conflict',
        'administration',
        'terrorism',
        'an out-of-vocabulary word',
        'another out-of-vocabulary word',
    ]
    vectors_for_all = vectors.vectors_for_all(words)

    expected = 3
    predicted = len(vectors_for_all)
    assert expected == predicted

    expected = vectors['conflict']
    predicted = vectors_for_all['conflict']
    assert np.allclose(expected, predicted)


def test_most_similar_topn(vectors, peer):
    """Test most_similar returns correct results when `topn` is specified."""
    assert len(vectors.most_similar('war', topn=5)) == 5
    assert len(vectors.most_similar('war', topn=10)) == 10

    predicted = vectors.most_similar('war', topn=None)
    assert len(predicted) == len(vectors)

    predicted = vectors.most_similar('war', topn=0)
    assert len(predicted) == 0

    predicted = vectors.most_similar('war', topn=np.uint8(0))
    assert len(predicted) == 0

    # topn=None: gensim's array of every similarity (the query word included), in row order
    ours, theirs = vectors.most_similar('war', topn=None), peer.most_similar('war', topn=None)
    assert isinstance(ours, np.ndarray) and ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    ours = vectors.most_similar('war', 'peace', topn=None, restrict_vocab=100)
    theirs = peer.most_similar('war', 'peace', topn=None, restrict_vocab=100)
    assert ours.shape == theirs.shape == (100,)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    ours, theirs = (vectors.most_similar_cosmul('war', 'peace', topn=None),
                    peer.most_similar_cosmul('war', 'peace', topn=None))
    assert isinstance(ours, np.ndarray) and ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    assert vectors.most_similar_cosmul('war', topn=0) == []
    assert vectors.similar_by_word('war', topn=None).shape == (len(vectors),)


def test_relative_cosine_similarity(vectors, peer):
    """Test relative_cosine_similarity returns expected results with an input of a word pair and
    topn"""
    wordnet_syn = [
        'good', 'goodness', 'commodity', 'trade_good', 'full', 'estimable', 'honorable',
        'respectable', 'beneficial', 'just', 'upright', 'adept', 'expert', 'practiced',
        'proficient', 'skillful', 'skilful', 'dear', 'near', 'dependable', 'safe', 'secure',
        'right', 'ripe', 'well', 'effective', 'in_effect', 'in_force', 'serious', 'sound',
        'salutary', 'honest', 'undecomposed', 'unspoiled', 'unspoilt', 'thoroughly', 'soundly',
    ]  # synonyms for "good" as per wordnet
    cos_sim = [vectors.similarity("good", syn) for syn in wordnet_syn if syn in vectors]
    cos_sim = sorted(cos_sim, reverse=True)  # cosine_similarity of "good" with wordnet_syn
    # computing relative_cosine_similarity of two similar words
    rcs_wordnet = vectors.similarity("good", "nice") / sum(cos_sim[i] for i in range(10))
    rcs = vectors.relative_cosine_similarity("good", "nice", 10)
    assert rcs_wordnet >= rcs
    assert np.allclose(rcs_wordnet, rcs, 0, 0.125)
    # computing relative_cosine_similarity for two non-similar words
    rcs = vectors.relative_cosine_similarity("good", "worst", 10)
    assert rcs < 0.10

    for a, b, n in [("good", "nice", 10), ("good", "worst", 10), ("war", "peace", 3)]:
        assert vectors.relative_cosine_similarity(a, b, n) == pytest.approx(
            peer.relative_cosine_similarity(a, b, n), abs=1e-6)
    assert vectors.relative_cosine_similarity("good", "nice") == pytest.approx(
        peer.relative_cosine_similarity("good", "nice"), abs=1e-6)
    with pytest.raises(ValueError, match="without any similar words"):
        vectors.relative_cosine_similarity("good", "nice", 0)
    with pytest.raises(KeyError):
        vectors.relative_cosine_similarity("good", "not_in_vocab")


def test_most_similar_raises_keyerror(vectors):
    """Test most_similar raises KeyError when input is out of vocab."""
    with pytest.raises(KeyError):
        vectors.most_similar('not_in_vocab')


def test_most_similar_restrict_vocab(vectors):
    """Test most_similar returns handles restrict_vocab correctly."""
    expected = set(vectors.index_to_key[:5])
    predicted = set(result[0] for result in vectors.most_similar('war', topn=5, restrict_vocab=5))
    assert expected == predicted


def test_most_similar_with_vector_input(vectors):
    """Test most_similar returns expected results with an input vector instead of an input
    word."""
    expected = ['war', 'conflict', 'administration', 'terrorism', 'call']
    input_vector = vectors['war']
    predicted = [result[0] for result in vectors.most_similar([input_vector], topn=5)]
    assert expected == predicted


def test_most_similar_to_given(vectors):
    """Test most_similar_to_given returns correct results."""
    predicted = vectors.most_similar_to_given('war', ['terrorism', 'call', 'waging'])
    assert predicted == 'terrorism'


def test_similar_by_word(vectors):
    """Test similar_by_word returns expected results."""
    expected = ['conflict', 'administration', 'terrorism', 'call', 'israel']
    predicted = [result[0] for result in vectors.similar_by_word('war', topn=5)]
    assert expected == predicted


def test_similar_by_vector(vectors):
    """Test similar_by_word returns expected results."""
    expected = ['war', 'conflict', 'administration', 'terrorism', 'call']
    input_vector = vectors['war']
    predicted = [result[0] for result in vectors.similar_by_vector(input_vector, topn=5)]
    assert expected == predicted


def test_distance(vectors):
    """Test that distance returns expected values."""
    assert np.allclose(vectors.distance('war', 'conflict'), 0.06694602)
    assert vectors.distance('war', 'war') == 0


def test_similarity(vectors):
    """Test similarity returns expected value for two words, and for identical words."""
    assert np.allclose(vectors.similarity('war', 'war'), 1)
    assert np.allclose(vectors.similarity('war', 'conflict'), 0.93305397)


def test_closer_than(vectors):
    """Test words_closer_than returns expected value for distinct and identical nodes."""
    assert vectors.closer_than('war', 'war') == []
    expected = set(['conflict', 'administration'])
    assert set(vectors.closer_than('war', 'terrorism')) == expected


def test_rank(vectors):
    """Test rank returns expected value for distinct and identical nodes."""
    assert vectors.rank('war', 'war') == 1
    assert vectors.rank('war', 'terrorism') == 3


def test_add_single(vectors):
    """Test that adding entity in a manual way works correctly."""
    entities = [f'___some_entity{i}_not_present_in_keyed_vectors___' for i in range(5)]
    vecs = [np.random.randn(vectors.vector_size) for _ in range(5)]

    # Test `add` on already filled kv.
    for ent, vector in zip(entities, vecs):
        vectors.add_vectors(ent, vector)

    for ent, vector in zip(entities, vecs):
        assert np.allclose(vectors[ent], vector)

    # Test `add` on empty kv.
    kv = empty(vectors.vector_size)
    for ent, vector in zip(entities, vecs):
        kv.add_vectors(ent, vector)

    for ent, vector in zip(entities, vecs):
        assert np.allclose(kv[ent], vector)


def test_add_multiple(vectors):
    """Test that adding a bulk of entities in a manual way works correctly."""
    entities = [f'___some_entity{i}_not_present_in_keyed_vectors___' for i in range(5)]
    vecs = [np.random.randn(vectors.vector_size) for _ in range(5)]

    # Test `add` on already filled kv.
    vocab_size = len(vectors)
    vectors.add_vectors(entities, vecs, replace=False)
    assert vocab_size + len(entities) == len(vectors)

    for ent, vector in zip(entities, vecs):
        assert np.allclose(vectors[ent], vector)

    # Test `add` on empty kv.
    kv = empty(vectors.vector_size)
    kv[entities] = vecs
    assert len(kv) == len(entities)

    for ent, vector in zip(entities, vecs):
        assert np.allclose(kv[ent], vector)


def test_add_type():
    kv = empty(2)
    assert kv.vectors.dtype == REAL

    words, vecs = ["a"], np.array([1., 1.], dtype=np.float64).reshape(1, -1)
    kv.add_vectors(words, vecs)

    assert kv.vectors.dtype == REAL


def test_set_item(vectors, peer):
    """Test that __setitem__ works correctly."""
    vocab_size = len(vectors)

    # Add new entity.
    entity = '___some_new_entity___'
    vector = np.random.randn(vectors.vector_size)
    vectors[entity] = vector
    peer[entity] = vector

    assert len(vectors) == vocab_size + 1
    assert np.allclose(vectors[entity], vector)

    # Replace vector for entity in vocab.
    vocab_size = len(vectors)
    vector = np.random.randn(vectors.vector_size)
    vectors['war'] = vector
    peer['war'] = vector

    assert len(vectors) == vocab_size
    assert np.allclose(vectors['war'], vector)

    # __setitem__ on several entities.
    vocab_size = len(vectors)
    entities = ['war', '___some_new_entity1___', '___some_new_entity2___', 'terrorism',
                'conflict']
    vecs = [np.random.randn(vectors.vector_size) for _ in range(len(entities))]

    vectors[entities] = vecs
    peer[entities] = np.array(vecs)

    assert len(vectors) == vocab_size + 2
    for ent, vector in zip(entities, vecs):
        assert np.allclose(vectors[ent], vector)

    # the same words in the same rows as gensim, and the caches follow the new vectors
    assert vectors.index_to_key == peer.index_to_key
    np.testing.assert_array_equal(vectors.vectors, peer.vectors)
    same(vectors.most_similar('war', topn=20), peer.most_similar('war', topn=20))
    same(vectors.most_similar_cosmul('conflict', topn=20),
         peer.most_similar_cosmul('conflict', topn=20))


def test_set_item_on_a_store_copies(vectors, tmp_path):
    """A memory-mapped store is never written through: the assignment works on an in-memory copy
    (what gensim users expect of ``kv[w] = vec``) and the store on disk keeps its vectors."""
    path = vectors.save(tmp_path / "v.wv")
    before = {p.name: p.read_bytes() for p in Path(path).iterdir()}
    mapped = wordvecs.load(path)
    assert isinstance(mapped.matrix, np.memmap) and not mapped.matrix.flags.writeable
    old = mapped['war']
    new = np.arange(mapped.dim, dtype=np.float32)
    mapped['war'] = new
    mapped[['peace', '___new___']] = np.ones((2, mapped.dim))
    np.testing.assert_array_equal(mapped['war'], new)
    np.testing.assert_array_equal(mapped['___new___'], np.ones(mapped.dim, np.float32))
    assert len(mapped) == len(vectors) + 1
    assert mapped.most_similar('war', topn=1)[0][0] != vectors.most_similar('war', topn=1)[0][0]
    assert {p.name: p.read_bytes() for p in Path(path).iterdir()} == before
    np.testing.assert_array_equal(wordvecs.load(path)['war'], old)


def test_set_item_refuses_bad_shapes(vectors):
    with pytest.raises(ValueError, match="shape"):
        vectors[['war', 'peace']] = np.ones((3, vectors.dim))
    with pytest.raises(ValueError, match="shape"):
        vectors['war'] = np.ones(vectors.dim + 1)
    assert len(vectors) == 2747


def test_save_reload(tmp_path):
    randkv = empty(100)
    count = 20
    keys = [str(i) for i in range(count)]
    weights = [pseudorandom_weak_vector(randkv.vector_size) for _ in range(count)]
    randkv.add_vectors(keys, weights)
    tmpfiletxt = tmp_path / "tmp_kv.vec"
    randkv.save(tmpfiletxt, format="word2vec")
    reloadtxtkv = wordvecs.load(tmpfiletxt)
    assert randkv.index_to_key == reloadtxtkv.index_to_key
    assert (randkv.vectors == reloadtxtkv.vectors).all()
    tmpfilebin = tmp_path / "tmp_kv.bin"
    randkv.save(tmpfilebin, format="word2vec-binary")
    reloadbinkv = wordvecs.load(tmpfilebin)
    assert randkv.index_to_key == reloadbinkv.index_to_key
    assert (randkv.vectors == reloadbinkv.vectors).all()


def test_no_header(tmp_path):
    randkv = empty(100)
    count = 20
    keys = [str(i) for i in range(count)]
    weights = [pseudorandom_weak_vector(randkv.vector_size) for _ in range(count)]
    randkv.add_vectors(keys, weights)
    tmpfiletxt = tmp_path / "tmp_kv.txt"
    randkv.save(tmpfiletxt, format="glove")  # word2vec text without its header line
    reloadtxtkv = wordvecs.load(tmpfiletxt)
    assert randkv.index_to_key == reloadtxtkv.index_to_key
    assert (randkv.vectors == reloadtxtkv.vectors).all()


def test_get_mean_vector(vectors):
    """Test get_mean_vector returns expected results."""
    keys = ['conflict', 'administration', 'terrorism', 'call', 'an out-of-vocabulary word']
    weights = [1, 2, 3, 1, 2]
    expected_result_1 = np.array([
        0.02000151, -0.12685453, 0.09196121, 0.25514853, 0.25740655,
        -0.11134843, -0.0502661, -0.19278568, -0.83346179, -0.12068878,
        ], dtype=np.float32)
    expected_result_2 = np.array([
        -0.0145228, -0.11530358, 0.1169825, 0.22537769, 0.29353586,
        -0.10458107, -0.05272481, -0.17547795, -0.84245106, -0.10356515,
        ], dtype=np.float32)
    expected_result_3 = np.array([
        0.01343237, -0.47651053, 0.45645328, 0.98304356, 1.1840123,
        -0.51647933, -0.25308795, -0.77931081, -3.55954733, -0.55429711,
        ], dtype=np.float32)

    assert np.allclose(vectors.get_mean_vector(keys), expected_result_1)
    assert np.allclose(vectors.get_mean_vector(keys, weights), expected_result_2)
    assert np.allclose(vectors.get_mean_vector(keys, pre_normalize=False), expected_result_3)


# --- LoadWord2VecFormatTest -----------------------------------------------------------------------
def save_dict_to_word2vec_formated_file(fname, word2vec_dict):
    with open(fname, "wb") as f:
        num_words = len(word2vec_dict)
        vector_length = len(next(iter(word2vec_dict.values())))

        header = "%d %d\n" % (num_words, vector_length)
        f.write(header.encode(encoding="ascii"))

        for word, vector in word2vec_dict.items():
            f.write(word.encode())
            f.write(b' ')
            f.write(np.array(vector).astype(np.float32).tobytes())


def assert_dict_equal_to_model(d, m):
    assert len(d) == len(m)

    for word in d:
        assert list(d[word]) == list(m[word])


def verify_load2vec_binary_result(tmp_path, w2v_dict, limit):
    tmpfile = tmp_path / "tmp_w2v"
    save_dict_to_word2vec_formated_file(tmpfile, w2v_dict)
    w2v_model = wordvecs.load(tmpfile, limit=limit)
    if limit is None:
        limit = len(w2v_dict)

    w2v_keys_postprocessed = list(w2v_dict.keys())[:limit]
    w2v_dict_postprocessed = {k.lstrip(): w2v_dict[k] for k in w2v_keys_postprocessed}

    assert_dict_equal_to_model(w2v_dict_postprocessed, w2v_model)


def test_load_word2vec_format_basic(tmp_path):
    w2v_dict = {"abc": [1, 2, 3], "cde": [4, 5, 6], "def": [7, 8, 9]}
    verify_load2vec_binary_result(tmp_path, w2v_dict, limit=None)

    w2v_dict = {"abc": [1, 2, 3], "cdefg": [4, 5, 6], "d": [7, 8, 9]}
    verify_load2vec_binary_result(tmp_path, w2v_dict, limit=None)


def test_load_word2vec_format_limit(tmp_path):
    w2v_dict = {"abc": [1, 2, 3], "cde": [4, 5, 6], "def": [7, 8, 9]}
    verify_load2vec_binary_result(tmp_path, w2v_dict, limit=1)
    verify_load2vec_binary_result(tmp_path, w2v_dict, limit=2)

    w2v_dict = {"abc": [1, 2, 3], "cdefg": [4, 5, 6], "d": [7, 8, 9]}
    verify_load2vec_binary_result(tmp_path, w2v_dict, limit=1)
    verify_load2vec_binary_result(tmp_path, w2v_dict, limit=2)


def test_load_word2vec_format_space_stripping(tmp_path):
    w2v_dict = {"\nabc": [1, 2, 3], "cdefdg": [4, 5, 6], "\n\ndef": [7, 8, 9]}
    verify_load2vec_binary_result(tmp_path, w2v_dict, limit=None)
    verify_load2vec_binary_result(tmp_path, w2v_dict, limit=1)
