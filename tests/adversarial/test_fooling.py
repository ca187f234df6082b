import pytest
import torch

from pixinfo.adversarial.fooling import (
    CPPN,
    CPPNEncoding,
    DirectEncoding,
    Random,
    evolve,
    gradient_ascent,
    polynomial_mutation,
)


@pytest.mark.parametrize("encoding", [DirectEncoding((1, 8, 8)), CPPNEncoding((1, 8, 8))], ids=["direct", "cppn"])
def test_evolution_raises_confidence_and_is_reproducible(digits_cnn, encoding):
    run = evolve(digits_cnn, encoding=encoding, population=40, generations=15, target=0.99999, seed=3, progress=False)
    start, end = run.history[0], run.history[-1]
    assert (end >= start).all()  # elites never get worse
    assert float(start.mean()) < 0.8  # random noise starts far from the target
    assert float(end.mean()) > float(start.mean()) + 0.15 and float(end.mean()) > 0.85
    assert run.images.min() >= 0 and run.images.max() <= 1
    # each elite is classified as its class with the recorded confidence
    with torch.no_grad():
        probs = torch.softmax(digits_cnn(run.images), 1)
    assert torch.allclose(probs.diagonal(), run.confidences, atol=1e-5)
    again = evolve(digits_cnn, encoding=encoding, population=40, generations=15, target=0.99999, seed=3,
                   progress=False)  # fmt: skip
    assert torch.equal(again.images, run.images) and torch.equal(again.history, run.history)


def test_evolution_stops_at_the_target(digits_cnn):
    run = evolve(digits_cnn, encoding=DirectEncoding((1, 8, 8)), population=50, generations=300, target=0.9,
                 progress=False)  # fmt: skip
    assert run.generations_to_all is not None and run.generations == run.generations_to_all
    assert (run.confidences >= 0.9).all()
    assert (run.history[run.reached.clamp_min(0), torch.arange(10)] >= 0.9).all()


def test_polynomial_mutation_stays_in_bounds_and_respects_rate():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(200, 1, 16, 16, generator=g) * 255
    y = polynomial_mutation(x, rate=0.1, eta=15, low=0, high=255, generator=g)
    changed = float((y != x).float().mean())
    assert 0.08 < changed < 0.12
    assert y.min() >= 0 and y.max() <= 255


def test_cppn_render_matches_a_hand_computed_network():
    enc = CPPNEncoding((1, 3, 3))
    # inputs x, y, d, bias -> hidden sin node (id 5) -> output sigmoid (id 4)
    g = CPPN([0, 0, 0, 0, 1.0, 0.5], [3, 3, 3, 3, 1, 0], {(0, 5): 2.0, (3, 5): 0.5, (5, 4): 1.5, (1, 4): -1.0})
    img = enc.render([g], device="cpu")[0, 0]
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, 3), torch.linspace(-1, 1, 3), indexing="ij")
    expected = torch.sigmoid(1.5 * torch.sin(2.0 * xs + 0.5) - ys)
    assert torch.allclose(img, expected, atol=1e-6)


def test_cppn_mutations_keep_the_network_feed_forward():
    import numpy as np

    enc = CPPNEncoding((1, 6, 6), p_add_node=0.5, p_add_connection=0.5, p_remove_node=0.2)
    rng = np.random.default_rng(0)
    genomes = enc.init(10, random=Random(torch.Generator(), rng), device="cpu")
    for gen in range(30):
        genomes = enc.mutate(genomes, generation=gen, random=Random(torch.Generator(), rng))
    assert max(g.n_hidden for g in genomes) > 0
    for g in genomes:
        assert all(g.positions[a] < g.positions[b] for a, b in g.connections)
    imgs = enc.render(genomes, device="cpu")
    assert imgs.shape == (10, 1, 6, 6) and torch.isfinite(imgs).all()


def test_cppn_batch_render_equals_rendering_each_genome_alone():
    import numpy as np

    enc = CPPNEncoding((3, 5, 7), p_add_node=0.5, p_add_connection=0.5)
    rng = np.random.default_rng(1)
    genomes = enc.init(6, random=Random(torch.Generator(), rng), device="cpu")
    for gen in range(15):
        genomes = enc.mutate(genomes, generation=gen, random=Random(torch.Generator(), rng))
    assert len({g.n_hidden for g in genomes}) > 1  # networks of different sizes share one batch
    batch = enc.render(genomes, device="cpu")
    alone = torch.cat([enc.render([g], device="cpu") for g in genomes])
    assert torch.allclose(batch, alone, atol=1e-6)


def test_gradient_ascent_reaches_high_confidence(digits_cnn):
    run = gradient_ascent(digits_cnn, shape=(1, 8, 8), steps=60, seed=0)
    assert (run.confidences > 0.999).all()
    assert (run.first_reached[0.99] >= 0).all()
    assert (run.first_reached[0.5] <= run.first_reached[0.99]).all()
    assert run.images.min() >= 0 and run.images.max() <= 1


@pytest.mark.parametrize("encoding", [DirectEncoding((1, 8, 8)), CPPNEncoding((1, 8, 8))], ids=["direct", "cppn"])
def test_evolution_and_ascent_on_the_models_device(device, encoding):
    from pixinfo.models import build_model

    torch.manual_seed(0)
    net = build_model("mlp", image_shape=(1, 8, 8), num_classes=4).to(device)
    run = evolve(net, encoding=encoding, population=16, generations=3, seed=0, progress=False)
    assert run.images.shape == (4, 1, 8, 8) and run.history.shape == (4, 4)
    asc = gradient_ascent(net, shape=(1, 8, 8), steps=3)
    assert asc.images.shape == (4, 1, 8, 8)


def test_cppn_size_is_capped():
    import numpy as np

    enc = CPPNEncoding((1, 6, 6), p_add_node=1.0, p_remove_node=0.0, max_hidden=5)
    rng = np.random.default_rng(0)
    genomes = enc.init(4, random=Random(torch.Generator(), rng), device="cpu")
    for gen in range(20):
        genomes = enc.mutate(genomes, generation=gen, random=Random(torch.Generator(), rng))
    assert max(g.n_hidden for g in genomes) == 5


class _CheckerEncoding:
    """A new encoding is one class: 2x2 blocks of one grey level each (a test of the protocol)."""

    def __init__(self, shape):
        self.shape = shape

    def init(self, n, *, random, device):
        c, h, w = self.shape
        return torch.rand((n, c, h // 2, w // 2), generator=random.torch, device=device)

    def mutate(self, parents, *, generation, random):
        noise = 0.2 * torch.randn(parents.shape, generator=random.torch, device=parents.device)
        return (parents + noise).clamp(0, 1)

    def render(self, genomes, *, device):
        return genomes.repeat_interleave(2, -1).repeat_interleave(2, -2).to(device)

    def take(self, genomes, index):
        return DirectEncoding.take(genomes, index)


def test_a_new_encoding_is_one_class(digits_cnn):
    from pixinfo.adversarial.fooling import Encoding

    enc = _CheckerEncoding((1, 8, 8))
    assert isinstance(enc, Encoding)
    run = evolve(digits_cnn, encoding=enc, population=30, generations=15, seed=0, progress=False)
    assert run.images.shape == (10, 1, 8, 8)
    img = run.images[0, 0]
    assert torch.equal(img[::2, ::2], img[1::2, 1::2])  # rendered by the new encoding
    assert bool((run.history[-1] >= run.history[0]).all())  # elites only improve
    with pytest.raises(TypeError, match="encoding must have"):
        evolve(digits_cnn, encoding=object(), population=2, generations=1, progress=False)


def test_archive_ask_draws_from_the_cells_and_tell_keeps_the_best():
    from pixinfo.adversarial.fooling import EliteArchive, Random

    archive = EliteArchive(n_classes=3, target=0.9)
    genomes = torch.arange(4.0).view(4, 1, 1, 1)
    conf = torch.tensor([[0.2, 0.1, 0.0], [0.9, 0.3, 0.1], [0.1, 0.95, 0.2], [0.0, 0.0, 0.5]])
    archive.tell(genomes, genomes, conf, generation=0)
    assert [float(g) for g in archive.genomes] == [1.0, 2.0, 3.0]
    assert archive.reached.tolist() == [0, 0, -1] and not archive.full
    archive.tell(genomes[:1] + 10, genomes[:1], torch.tensor([[0.1, 0.1, 0.99]]), generation=1)
    assert float(archive.genomes[2]) == 10.0 and archive.reached.tolist() == [0, 0, 1] and archive.full
    parents = archive.ask(50, encoding=DirectEncoding((1, 1, 1)), random=Random.seeded(0, "cpu"))
    assert set(parents.flatten().tolist()) == {1.0, 2.0, 10.0}
    assert len(archive.history) == 2
