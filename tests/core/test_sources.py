from pydantic import SecretStr

from eventwire.core.sources import Source, SourceSpec, hash_secret, secret_matches


def test_hash_is_salted_and_verifies():
    first, second = hash_secret("s3cret"), hash_secret("s3cret")
    assert first != second
    assert "s3cret" not in first
    assert secret_matches("s3cret", first)
    assert secret_matches("s3cret", second)
    assert not secret_matches("s3cret!", first)
    assert not secret_matches("s3cret", "md5$aa$bb")


def test_source_admits_only_its_secret_and_only_when_enabled():
    source = Source.from_spec(SourceSpec(id="web", secret=SecretStr("k")))
    assert source.admits("k")
    assert not source.admits("K")
    assert not source.admits(None)
    disabled = Source.from_spec(SourceSpec(id="web", secret=SecretStr("k"), enabled=False))
    assert not disabled.admits("k")
    open_source = Source.from_spec(SourceSpec(id="open"))
    assert open_source.admits(None)
    assert open_source.admits("anything")


def test_secret_hash_from_config_is_used_as_is():
    stored = hash_secret("k", salt="abc")
    source = Source.from_spec(SourceSpec(id="web", secret_hash=stored))
    assert source.secret_hash == stored
    assert source.admits("k")


def test_spec_never_prints_the_secret():
    spec = SourceSpec(id="web", secret=SecretStr("topsecret"))
    assert "topsecret" not in repr(spec)
    assert "topsecret" not in str(spec.model_dump())


def test_each_distinct_secret_is_verified_once_and_never_kept_in_clear(monkeypatch):
    from eventwire.core import sources

    source = Source.from_spec(SourceSpec(id="web", secret=SecretStr("k")))
    checked: list[str] = []
    real = sources.secret_matches

    def counting(secret: str, stored: str) -> bool:
        checked.append(secret)
        return real(secret, stored)

    monkeypatch.setattr(sources, "secret_matches", counting)
    verdicts = [source.admits(s) for s in ["k", "k", "wrong", "k", "wrong"]]
    assert verdicts == [True, True, False, True, False]
    assert checked == ["k", "wrong"]
    assert b"k" not in source._verdicts
    assert b"wrong" not in source._verdicts
    assert all(isinstance(d, bytes) and len(d) == 16 for d in source._verdicts)
    for n in range(200):  # a flood of wrong secrets keeps the memory bounded
        assert not source.admits(f"guess-{n}")
    assert len(source._verdicts) <= 64
    assert source.admits("k")
