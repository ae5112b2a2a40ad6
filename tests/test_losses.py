"""Loss extraction from the formats training code prints and writes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from forkvet.errors import InputError
from forkvet.runtime import losses as L


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("Epoch 1 step 10 loss: 1.2345", 1.2345),
        ("iter 200, loss=0.5e-2, lr=0.001", 0.005),
        ("{'epoch': 0, 'loss': 0.731, 'learning_rate': 5e-05}", 0.731),
        ('{"train_loss": 2.5, "val_loss": 3.1}', 2.5),
        ("  3%|▎  | 30/1000 [00:02<01:10, 13.8it/s, loss=1.07, acc=0.5]", 1.07),
        ("Train Loss: 0.25 | Val Loss: 0.5", 0.25),
        ("total_loss = tensor(0.0421, grad_fn=<AddBackward0>)", 0.0421),
        ("[step 7] loss nan", math.nan),
        ("loss: inf", math.inf),
        ("Loss 12.5 acc 0.1", 12.5),
    ],
)
def test_default_patterns(line: str, value: float) -> None:
    point = L.from_text(line)
    assert len(point) == 1
    assert point[0].value == value or (math.isnan(value) and math.isnan(point[0].value))


def test_validation_and_unrelated_lines_are_ignored() -> None:
    text = "val_loss: 0.3\ntest_loss=0.2\nclassloss 5\nlearning rate 0.1\nloss_scale: 1024\n"
    assert L.from_text(text) == []


def test_steps_are_captured() -> None:
    pts = L.from_text("step 10 loss: 1.0\nstep 20 loss: 0.5\n")
    assert [(p.step, p.value) for p in pts] == [(10, 1.0), (20, 0.5)]


def test_custom_pattern() -> None:
    assert [p.value for p in L.from_text("obj=3.5\nobj=2.5", r"obj=([\d.]+)")] == [3.5, 2.5]
    with pytest.raises(InputError, match="needs a group"):
        L.from_text("x", r"obj=\d+")
    with pytest.raises(InputError, match="not a valid regular expression"):
        L.from_text("x", r"obj=(")


def test_csv_and_jsonl(tmp_path: Path) -> None:
    csv = tmp_path / "metrics.csv"
    csv.write_text("epoch,step,train_loss,val_loss\n0,1,2.0,\n0,2,1.5,\n0,2,,1.9\n0,3,1.0,\n")
    assert [(p.step, p.value) for p in L.from_file(csv)] == [(1, 2.0), (2, 1.5), (3, 1.0)]
    jsonl = tmp_path / "log.jsonl"
    jsonl.write_text('{"step": 1, "loss": 3.0}\nnot json\n{"step": 2, "loss": NaN}\n')
    pts = L.from_file(jsonl)
    assert pts[0].value == 3.0 and math.isnan(pts[1].value)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="no loss column"):
        L.from_file(bad)


def test_tensorboard_events_written_by_torch(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(tmp_path / "runs"))
    for step in range(5):
        writer.add_scalar("Loss/train", 1.0 / (step + 1), step)
        writer.add_scalar("Loss/val", 9.0, step)
    writer.close()
    pts = L.from_file(tmp_path / "runs")
    assert [p.step for p in pts] == [0, 1, 2, 3, 4]
    assert pts[-1].value == pytest.approx(0.2)


def test_missing_file() -> None:
    with pytest.raises(InputError, match="no such file"):
        L.from_file(Path("/nonexistent/log.txt"))


@pytest.mark.parametrize(
    ("line", "value", "step"),
    [  # the formats real training code prints
        (
            "1875/1875 [==============================] - 5s 2ms/step - loss: 0.2963 - accuracy: "
            "0.9143 - val_loss: 0.1411",
            0.2963,
            None,
        ),  # Keras
        ("{'loss': 0.6931, 'learning_rate': 4.9e-05, 'epoch': 0.01}", 0.6931, None),  # HF
        (
            "[11/27 10:00:01 d2.utils.events]:  eta: 0:10:02  iter: 19  total_loss: 2.164  "
            "loss_cls: 0.7344  loss_box_reg: 0.1234  lr: 0.000399",
            2.164,
            19,
        ),  # detectron2
        (
            "| epoch 001:    100 / 1120 loss=9.234, nll_loss=8.901, ppl=478.3, wps=12345",
            9.234,
            None,
        ),  # fairseq
        (
            "Epoch [1][50/7330]\tlr: 1.000e-02, eta: 1 day, loss_rpn_cls: 0.6849, "
            "loss_rpn_bbox: 0.1, loss: 2.3456",
            2.3456,
            None,
        ),  # mmdetection
        ("INFO:tensorflow:loss = 2.3025851, step = 1", 2.3025851, 1),  # TF 1 estimator
        (
            "Epoch 0:  12%|█▏        | 94/782 [00:03<00:26, 25.9it/s, loss=1.23, v_num=0]",
            1.23,
            None,
        ),  # PyTorch Lightning
        (
            "1/21150 (epoch 0.002), train_loss = 4.19226539, grad/param norm = 4.1e-01",
            4.19226539,
            None,
        ),  # char-rnn (Lua Torch)
        ("Train Epoch: 1 [640/60000 (1%)]\tLoss: 2.305", 2.305, None),  # PyTorch examples
    ],
)
def test_real_log_formats(line: str, value: float, step: int | None) -> None:
    points = L.from_text(line)
    assert len(points) == 1 and points[0].value == pytest.approx(value)
    if step is not None:
        assert points[0].step == step


@pytest.mark.parametrize(
    ("line", "value"),
    [
        # Hugging Face Trainer (recent versions print the logged values as strings)
        (
            "{'loss': '0.6968', 'grad_norm': '2.719', 'learning_rate': '4.9e-05', 'epoch': '0.01'}",
            0.6968,
        ),
        ('{"loss": "1.25e-01", "epoch": "0.5"}', 0.125),
        # a tensor printed as it is
        ("loss: tensor(0.6900, device='cuda:0', grad_fn=<NllLossBackward0>)", 0.69),
        ("step 3 loss tensor(0.6931)", 0.6931),
        ("Loss: tensor([0.4200], grad_fn=<AddBackward0>)", 0.42),
    ],
)
def test_string_and_tensor_values(line: str, value: float) -> None:
    points = L.from_text(line)
    assert len(points) == 1 and points[0].value == pytest.approx(value)


def test_the_trainers_closing_summary_is_not_a_point() -> None:
    summary = (
        "{'train_runtime': '12.31', 'train_samples_per_second': '5.1', "
        "'train_steps_per_second': '0.4', 'train_loss': '0.61', 'epoch': '1.0'}"
    )
    assert L.from_text(summary) == []


# pytorch/examples dcgan/main.py prints exactly this format string.
DCGAN = "[%d/%d][%d/%d]\tLoss_D: %.4f\tLoss_G: %.4f\tD(x): %.4f\tD(G(z)): %.4f / %.4f"


@pytest.mark.parametrize(
    ("line", "d", "g"),
    [
        (DCGAN % (0, 25, 0, 782, 1.6322, 5.6286, 0.6002, 0.5761, 0.0049), 1.6322, 5.6286),
        # eriklindernoren/PyTorch-GAN
        ("[Epoch 0/200] [Batch 0/938] [D loss: 0.693147] [G loss: 0.701234]", 0.693147, 0.701234),
        # eriklindernoren/Keras-GAN
        ("0 [D loss: 0.693, acc.: 50.00%] [G loss: 0.701]", 0.693, 0.701),
        ("Epoch 1, step 10: d_loss=1.2345, g_loss=0.9876", 1.2345, 0.9876),
        ("errD: tensor(0.5000) errG: tensor(2.3000)", 0.5, 2.3),
    ],
)
def test_gan_logs_give_both_series(line: str, d: float, g: float) -> None:
    (point,) = L.from_text(line)
    assert point.series == {"generator": pytest.approx(g), "discriminator": pytest.approx(d)}
    assert point.value == pytest.approx(g)  # the generator is the main series


def test_gan_metrics_files(tmp_path: Path) -> None:
    csv = tmp_path / "metrics.csv"
    csv.write_text("step,d_loss,g_loss\n1,1.3,0.7\n2,1.2,0.9\n")
    assert [p.series for p in L.from_file(csv)] == [
        {"generator": 0.7, "discriminator": 1.3},
        {"generator": 0.9, "discriminator": 1.2},
    ]


def test_a_planted_log_link_or_fifo_is_refused_not_followed(tmp_path: Path) -> None:
    """The earlier smoke step's code can leave train.log as a link to /dev/zero or a FIFO:
    one line each, never an endless read or a hang."""
    import os

    from forkvet.errors import InputError
    from forkvet.runtime.losses import from_file

    link = tmp_path / "train.log"
    link.symlink_to("/dev/zero")
    fifo = tmp_path / "fifo.log"
    os.mkfifo(fifo)
    for path, words in ((link, "symbolic link"), (fifo, "not a regular file")):
        with pytest.raises(InputError, match=words):
            from_file(path)


def _outside_and_linked_repo(tmp_path: Path) -> tuple[Path, Path]:
    """(a repository whose committed `runs` links to a folder outside it, that folder): the
    folder holds metrics with a secret number."""
    import json

    outside = tmp_path / "outside"
    outside.mkdir()
    with (outside / "metrics.jsonl").open("w") as fh:
        for i in range(10):
            fh.write(json.dumps({"step": i, "loss": 1 / (i + 1), "secret_pin": 424242}) + "\n")
    (outside / "metrics.csv").write_text("step,secret_acc,loss\n1,123456,0.9\n2,654321,0.8\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "runs").symlink_to(outside)
    return repo, outside


@pytest.mark.parametrize("name", ["metrics.jsonl", "metrics.csv"])
def test_a_log_under_a_linked_folder_of_the_repository_is_refused(
    tmp_path: Path, name: str
) -> None:
    """Round 16b M2: `--log runs/metrics.jsonl` with a committed `runs -> /elsewhere` read a
    file outside the checkout and published its numbers. Every component inside the
    repository is opened without following a link; the loss reader refuses, the metrics reader
    gives nothing."""
    from forkvet.runtime import metrics as M

    repo, _ = _outside_and_linked_repo(tmp_path)
    with pytest.raises(InputError, match="runs is a symbolic link"):
        L.read(repo / "runs" / name, None, repo)
    assert M.from_file(repo / "runs" / name, repo).series == {}


def test_train_check_refuses_a_log_under_a_linked_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    pytest.importorskip("pymannkendall")
    from forkvet.cli import main

    repo, _ = _outside_and_linked_repo(tmp_path)
    monkeypatch.chdir(repo)
    out = tmp_path / "train.json"
    code = main(
        [
            *("train-check", ".", "--log", "runs/metrics.jsonl", "--format", "json"),
            *("--output", str(out), "--out", str(tmp_path / "out")),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "symbolic link" in err and not out.exists()
    # the operator's own log outside the repository is still read
    code = main(
        [
            *("train-check", ".", "--log", str(tmp_path / "outside" / "metrics.jsonl")),
            *("--format", "json", "--output", str(out), "--out", str(tmp_path / "out")),
        ]
    )
    assert code == 0 and "424242" in out.read_text()


@pytest.mark.parametrize(
    "lines",
    [  # round 16b M3: matplotlib raised inside forkvet (exit 3, no train.json)
        [f"step {i} loss: {1.0 / (i + 1)} grad_norm -1e308" for i in range(20)],
        [f"step {i} loss: {10.0 ** (-300 + 30 * i)}" for i in range(20)],
        [f"step {i} loss: {1e308 if i % 2 else -1e308} lr 1e-320" for i in range(20)],
        [f"step {10**300 + i} loss: {1.0 / (i + 1)}" for i in range(20)],
    ],
)
def test_logged_extremes_never_end_the_check(tmp_path: Path, lines: list[str]) -> None:
    """The logged values are the repository's: the plot draws them clipped, and a plot that
    fails all the same is a notice in the result, never the end of the check."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("pymannkendall")
    from forkvet.runtime.train_check import check

    log = tmp_path / "train.log"
    log.write_text("\n".join(lines) + "\n")
    result = check(log=log, cwd=tmp_path, out_dir=tmp_path / "out")
    assert result.verdict in ("pass", "fail", "inconclusive")
    assert result.plot is not None and Path(result.plot).stat().st_size > 0, result.reasons


def test_a_plot_that_raises_is_a_notice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pymannkendall")
    from forkvet.runtime import train_check

    def broken(*args: object, **kwargs: object) -> Path:
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(train_check, "plot_png", broken)
    log = tmp_path / "train.log"
    log.write_text("".join(f"step {i} loss: {1.0 / (i + 1)}\n" for i in range(20)))
    result = train_check.check(log=log, cwd=tmp_path, out_dir=tmp_path / "out")
    assert result.verdict == "pass" and result.plot is None
    assert "notice: the loss plot could not be drawn (OverflowError)" in result.reasons
