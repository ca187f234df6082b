import pytest

from pixinfo._spec import parse_spec
from pixinfo.transforms.registry import default_transforms
from pixinfo.transforms import DEFAULT_TRANSFORMS, FixedPermutation, build_transform, transform_names


def test_default_transforms_build_and_round_trip_their_spec():
    for spec in default_transforms("digits-like 8x8"):
        t = build_transform(spec, shape=(1, 8, 8))
        rebuilt = build_transform(t.spec, shape=(1, 8, 8))
        assert type(rebuilt) is type(t) and rebuilt.spec == t.spec
    assert {s.split(":")[0] for s in DEFAULT_TRANSFORMS} <= set(transform_names())


def test_parameters_are_parsed():
    t = build_transform("permutation:seed=7", shape=(3, 5, 5))
    assert isinstance(t, FixedPermutation) and t.seed == 7 and t.spec == "permutation:seed=7"


@pytest.mark.parametrize(
    "spec,match",
    [("nope", "unknown transform"), ("permutation:size=3", "bad parameters"), ("identity:1", "bad parameters"), ("", "non-empty")],
)
def test_bad_specs(spec, match):
    with pytest.raises(ValueError, match=match):
        build_transform(spec, shape=(4, 4))


def test_parse_spec_literals():
    assert parse_spec("x:a=1,b=2.5,c=true,d=none,e=word") == ("x", [], {"a": 1, "b": 2.5, "c": True, "d": None, "e": "word"})
    with pytest.raises(ValueError):
        parse_spec("x:a=1,positional")
    with pytest.raises(ValueError):
        parse_spec("x:1a=2")


@pytest.mark.parametrize(
    "spec,cls",
    [
        ("vortex:authors", "RandomVortex"),
        ("vortex:authors=mnist,bijective=true,strength=0.5", "RandomVortex"),
        ("vortex:seed=3,n=4", "RandomVortex"),
        ("block:size=4,shuffle_within=true,rotate=true", "BlockScramble"),
        ("partial-permutation:fraction=0.2", "PartialPermutation"),
        ("swaps:k=3", "RandomSwaps"),
        ("xor:bits=1", "XorKey"),
        ("xor-per-image", "PerImageXor"),
        ("monotone:seed=2", "MonotoneMap"),
        ("level-permutation", "LevelPermutation"),
        ("vortex:authors+negative", "Compose"),
    ],
)
def test_every_family_by_name(spec, cls):
    t = build_transform(spec, shape=(1, 28, 28), dataset="fashion-mnist")
    assert type(t).__name__ == cls
    again = build_transform(t.spec, shape=(1, 28, 28), dataset="fashion-mnist")
    assert again.spec == t.spec


def test_vortex_authors_needs_a_dataset_with_a_key():
    assert build_transform("vortex:authors", shape=(1, 28, 28), dataset="mnist-5k").spec.startswith("vortex:authors=mnist,")
    with pytest.raises(ValueError, match="there is none for .digits."):
        build_transform("vortex:authors", shape=(1, 8, 8), dataset="digits")
    with pytest.raises(ValueError, match="seed"):
        build_transform("vortex", shape=(1, 28, 28))


def test_every_registered_class_builds_itself_with_its_own_defaults():
    from pixinfo.transforms.base import spec_classes

    for name, cls in spec_classes().items():
        spec = "vortex:seed=0" if name == "vortex" else name
        t = build_transform(spec, shape=(1, 8, 8))
        assert type(t) is cls and build_transform(t.spec, shape=(1, 8, 8)).spec == t.spec
        help_line = transform_names()[name]
        for option, default in cls.spec_options().items():  # help is generated from the signature
            assert f"{option}={str(default).lower() if isinstance(default, bool) else default}" in help_line
    assert transform_names()["block"].endswith(
        "[size=4, shuffle_blocks=true, shuffle_within=false, rotate=false, flip=false, seed=0]")


def test_unknown_spec_options_name_the_accepted_ones():
    with pytest.raises(ValueError, match=r"unexpected fractoin \(parameters: fraction, seed;"):
        build_transform("partial-permutation:fractoin=0.2", shape=(8, 8))
    with pytest.raises(ValueError, match="shuffle_within must be a boolean"):
        build_transform("block:shuffle_within=maybe", shape=(8, 8))
    with pytest.raises(ValueError, match="authors' key takes no seed"):
        build_transform("vortex:authors=mnist,seed=1", shape=(28, 28))


def test_a_spec_name_belongs_to_one_class():
    from pixinfo.transforms import Transform

    with pytest.raises(TypeError, match="spec name 'permutation' is taken by pixinfo.transforms.permutation"):
        type("Impostor", (Transform,), {}, spec="permutation")
