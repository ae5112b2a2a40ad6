"""Every metric of a run, not only the training loss: output lines, CSV/JSONL, TensorBoard;
overfitting and stalled validation warnings; GPU utilisation; one plot axis per series."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import pytest

from forkvet.cli import main
from forkvet.runtime import metrics as M
from forkvet.runtime.curves import warnings as curve_warnings
from forkvet.runtime.train_check import check

PY = sys.executable


def overfitting_log(path: Path) -> Path:
    """Training loss falls all along; validation loss falls until step 100, then rises."""
    lines = ["starting training"]
    for i, step in enumerate(range(10, 210, 10)):
        train = 2.0 * math.exp(-0.12 * i) + 0.05
        val = 1.0 + 0.0004 * (step - 100) ** 2 / 10
        acc = 0.5 + 0.02 * min(i, 9) - 0.01 * max(0, i - 9)
        lines.append(
            f"epoch {i} step {step} train_loss {train:.4f} val_loss {val:.4f} "
            f"val_acc {acc:.3f} lr 1e-3"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_validation_loss_turning_up_warns_overfitting_naming_the_step(tmp_path: Path) -> None:
    result = check(log=overfitting_log(tmp_path / "train.log"), out_dir=tmp_path / "out")
    assert result.verdict == "pass", result.reasons  # a warning, never a failure
    warning = next(r for r in result.reasons if "overfitting" in r)
    assert "val_loss turned at step 100" in warning and "train_loss still fell" in warning
    assert set(result.metrics) == {"train_loss", "val_loss", "val_acc", "lr"}
    val = result.metrics["val_loss"]
    assert val["kind"] == "val_loss" and val["goal"] == "min"
    assert val["best"] == 1.0 and val["best_step"] == 100 and val["points"][0] == [10, 1.324]
    assert result.metrics["lr"]["kind"] == "lr" and result.metrics["lr"]["trend"] == "flat"
    assert result.metrics["train_loss"]["trend"] == "falling"
    assert result.metrics["val_acc"]["goal"] == "max"
    # today's keys stay as they were
    data = result.to_dict()
    assert len(data["losses"]) == 20 and data["series"] == {}
    assert data["gpu_utilization_mean"] is None and data["gpu_utilization_samples"] == 0


def test_no_warning_while_validation_loss_still_falls(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(
        "".join(
            f"step {s} loss {3 / (s + 1):.4f} val_loss {3.5 / (s + 1):.4f}\n" for s in range(20)
        )
    )
    result = check(log=log, out_dir=tmp_path / "out")
    assert not [r for r in result.reasons if r.startswith("warning")], result.reasons


def write_events(folder: Path, tags: list[str], steps: int = 6) -> None:
    """A TensorBoard event file written with tensorboard's own writer."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder))
    for step in range(steps):
        for n, tag in enumerate(tags):
            value = summary_pb2.Summary.Value(tag=tag, simple_value=(n + 1) / (step + 1))
            summary = summary_pb2.Summary(value=[value])
            writer.add_event(event_pb2.Event(step=step, wall_time=1.0 + step, summary=summary))
    writer.close()


def test_tensorboard_events_with_five_scalar_tags_give_five_metrics(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    tags = ["train/loss", "val/loss", "val/top-1", "lr-Adam", "grad_norm"]
    write_events(tmp_path / "runs", tags)
    result = check(log=tmp_path / "runs", out_dir=tmp_path / "out")
    assert sorted(result.metrics) == sorted(tags)
    kinds = {name: m["kind"] for name, m in result.metrics.items()}
    assert kinds == {
        "train/loss": "train_loss",
        "val/loss": "val_loss",
        "val/top-1": "metric",
        "lr-Adam": "lr",
        "grad_norm": "grad_norm",
    }
    top1 = result.metrics["val/top-1"]
    assert top1["goal"] == "max" and top1["best_step"] == 0 and top1["points"][0] == [0, 3.0]
    # top-1 fell from its first evaluation: a validation metric that never improved
    assert any("val/top-1 never improved" in r for r in result.reasons), result.reasons


def test_csv_val_acc_gives_best_value_and_trend(tmp_path: Path) -> None:
    csv = tmp_path / "metrics.csv"
    rows = ["epoch,step,train_loss,val_acc"]
    accs = [0.41, 0.55, 0.62, 0.70, 0.74, 0.79, 0.78, 0.83]
    for epoch, value in enumerate(accs):
        rows.append(f"{epoch},{(epoch + 1) * 100},{2.0 / (epoch + 1):.4f},")
        rows.append(f"{epoch},{(epoch + 1) * 100},,{value}")
    csv.write_text("\n".join(rows) + "\n")
    result = check(log=csv, out_dir=tmp_path / "out")
    acc = result.metrics["val_acc"]
    assert acc["best"] == 0.83 and acc["best_step"] == 800 and acc["trend"] == "rising"
    assert acc["first"] == 0.41 and acc["last"] == 0.83 and acc["kind"] == "metric"
    assert len(acc["points"]) == 8 and "epoch" not in result.metrics
    assert not [r for r in result.reasons if "never improved" in r]


def test_jsonl_metrics_and_a_stalled_validation_metric(tmp_path: Path) -> None:
    jsonl = tmp_path / "log.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps({"step": s, "loss": 2.0 - 0.1 * s, "eval_bleu": 20.0 - 0.5 * (s % 3)}) + "\n"
            for s in range(10)
        )
    )
    result = check(log=jsonl, out_dir=tmp_path / "out")
    assert result.metrics["eval_bleu"]["goal"] == "max"
    assert any("eval_bleu never improved on its first value 20" in r for r in result.reasons)


@pytest.mark.parametrize(
    ("line", "found"),
    [
        (
            "epoch 3 train_loss 0.41 val_loss 0.52 val_acc 0.81 lr 1e-3",
            {"train_loss": 0.41, "val_loss": 0.52, "val_acc": 0.81, "lr": 0.001},
        ),
        (
            "1875/1875 [====] - 5s 2ms/step - loss: 0.2963 - accuracy: 0.9143 - val_loss: "
            "0.1411 - val_accuracy: 0.95",
            {"loss": 0.2963, "accuracy": 0.9143, "val_loss": 0.1411, "val_accuracy": 0.95},
        ),
        (
            "{'loss': 0.6931, 'grad_norm': 1.23, 'learning_rate': 4.9e-05, 'epoch': 0.01}",
            {"loss": 0.6931, "grad_norm": 1.23, "learning_rate": 4.9e-05},
        ),
        ("step 100: train loss 2.31, val loss 2.40", {"train loss": 2.31, "val loss": 2.40}),
        ("[Epoch 1/200] [D loss: 0.693] [G loss: 0.702]", {"D loss": 0.693, "G loss": 0.702}),
        (
            "Test set: Average loss: 0.0330, Accuracy: 9890/10000 (99%)",
            {"Average loss": 0.033, "Accuracy": 99.0},  # the percentage, never the count
        ),
        (
            "train final score: 9890/10000 = 98.90% correct",
            {"train final score": 98.9},
        ),
        ("Accuracy: 9890/10000", {}),  # a count alone is no metric
        ("eta: 0:10:02  iter: 19  time: 0.51  data_time: 0.1  max_mem: 1234M", {}),
        ("{'train_runtime': 12.3, 'train_loss': 0.5}", {}),  # the run's mean: no point
    ],
)
def test_named_metrics_of_an_output_line(line: str, found: dict[str, float]) -> None:
    assert {name: value for name, _, value in M.from_line(line)} == found


@pytest.mark.parametrize(
    ("name", "kind", "goal"),
    [
        ("val_acc", "metric", "max"),
        ("top1_err", "metric", "min"),
        ("FID", "metric", "min"),
        ("mAP@0.5", "metric", "max"),
        ("perplexity", "metric", "min"),
        ("eval_loss", "val_loss", "min"),
        ("errD", "train_loss", "min"),
        ("lr-Adam", "lr", "min"),
        ("epoch_time", "other", "min"),
    ],
)
def test_kind_and_goal_come_from_the_name(name: str, kind: str, goal: str) -> None:
    assert (M.kind_of(name), M.goal_of(name)) == (kind, goal)


def test_series_and_points_are_bounded() -> None:
    rec = M.Recorder()
    for n in range(M.MAX_SERIES + 5):
        rec.add(f"loss_{n}", None, 1.0)
    assert len(rec.series) == M.MAX_SERIES
    long = M.Series()
    for step in range(10 * M.MAX_POINTS + 7):
        long.add(step, float(step))
    xy = long.xy()
    assert len(xy) <= M.MAX_POINTS + 1 and xy[0] == (0, 0.0)
    assert xy[-1] == (10 * M.MAX_POINTS + 6, float(10 * M.MAX_POINTS + 6))  # the real last
    assert M.clean_name("acc\x1b[31m\n" + "x" * 100) == ("acc__31m_" + "x" * 100)[: M.MAX_NAME]


def test_hostile_metrics_files_cost_little(tmp_path: Path) -> None:
    jsonl = tmp_path / "log.jsonl"
    jsonl.write_text(
        "[" * 5_000 + "\n" + '{"x": [' + "1," * 100_000 + "1]}\n" + '{"step": 1, "acc": 0.5}\n'
    )
    assert set(M.from_file(jsonl).series) == {"acc"}
    assert M.from_file(jsonl).unread == 2  # counted, never silently dropped
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"loss{n}" for n in range(500)) + "\n" + "1," * 499 + "1\n")
    assert len(M.from_file(wide).series) == M.MAX_SERIES
    (tmp_path / "fifo.csv").symlink_to(wide)
    assert M.from_file(tmp_path / "fifo.csv").series == {}


def test_metrics_files_the_run_wrote_are_read_not_older_ones(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "logs").mkdir(parents=True)
    old = repo / "logs" / "author.csv"  # the author's committed run
    old.write_text("step,author_acc\n1,0.9\n")
    os.utime(old, (1_000_000_000, 1_000_000_000))
    (repo / "link.csv").symlink_to("/etc/passwd")
    script = (
        "import pathlib\n"
        "pathlib.Path('logs/metrics.csv').write_text("
        "'step,val_acc\\n' + ''.join(f'{s},{0.5 + s / 100}\\n' for s in range(10)))\n"
        "for s in range(10): print(f'step {s} loss {2 / (s + 1):.4f}')\n"
    )
    (repo / "train.py").write_text(script)
    result = check(
        command=f"{PY} train.py", cwd=repo, out_dir=tmp_path / "out", env={"PATH": "/usr/bin"}
    )
    assert "val_acc" in result.metrics and "loss" in result.metrics, result.reasons
    assert "author_acc" not in result.metrics and "root" not in json.dumps(result.metrics)
    assert result.metrics["val_acc"]["best"] == pytest.approx(0.59)
    assert not any("could not be read" in r for r in result.reasons)


def test_metrics_rows_the_run_wrote_that_cannot_be_read_are_said(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    script = (
        "import pathlib\n"
        'rows = [f\'{{"step": {s}, "val_acc": {s / 10}}}\' for s in range(5)]\n'
        "pathlib.Path('metrics.jsonl').write_text('\\n'.join(rows + ['not json', '[1]']))\n"
        "for s in range(10): print(f'step {s} loss {2 / (s + 1):.4f}')\n"
    )
    (repo / "train.py").write_text(script)
    result = check(
        command=f"{PY} train.py", cwd=repo, out_dir=tmp_path / "out", env={"PATH": "/usr/bin"}
    )
    assert "val_acc" in result.metrics, result.reasons
    assert any(r.startswith("2 row(s) of the metrics files") for r in result.reasons)


def test_plot_has_one_axis_per_series_each_with_a_legend(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from forkvet.runtime.plot import figure

    result = check(log=overfitting_log(tmp_path / "train.log"), out_dir=tmp_path / "out")
    assert result.plot is not None and Path(result.plot).stat().st_size > 0
    losses = [v for v in result.losses if v is not None]
    fig = figure(losses, "t", result.steps, metrics=result.metrics)
    titles = [ax.get_title() for ax in fig.axes]
    # the training loss's axis shows train_loss already: the three others get one each
    assert titles == ["training loss", "val_loss (val_loss)", "val_acc (metric)", "lr (lr)"]
    assert all(ax.get_legend() is not None for ax in fig.axes)
    wide = {"grad_norm": M.summary("grad_norm", _series([1e-4, 1.0, 50.0, 3.0]))}
    fig = figure(losses, "t", metrics=wide)
    assert fig.axes[1].get_yscale() == "log" and fig.axes[0].get_yscale() == "linear"


def _series(values: list[float]) -> M.Series:
    series = M.Series()
    for step, value in enumerate(values):
        series.add(step, value)
    return series


def fake_nvidia_smi(folder: Path, utilization: str) -> Path:
    """An nvidia-smi that answers the query as the real one does (CSV, no header/units)."""
    folder.mkdir()
    smi = folder / "nvidia-smi"
    smi.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f'  *utilization.gpu*) echo "NVIDIA H100 80GB HBM3, 1024, {utilization}" ;;\n'
        '  *) echo "NVIDIA H100 80GB HBM3, 1024" ;;\n'
        "esac\n"
    )
    smi.chmod(0o755)
    return folder


def test_gpu_utilisation_from_nvidia_smi_and_an_idle_gpu_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bin_dir = fake_nvidia_smi(tmp_path / "bin", "7")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.py").write_text(
        "import time\nfor s in range(12):\n"
        "    print(f'step {s} loss {2 / (s + 1):.4f}', flush=True)\n    time.sleep(0.2)\n"
    )
    out = tmp_path / "r.json"
    args = ["--python", PY, "--cmd", f"{PY} train.py", "--out", str(tmp_path / "out")]
    main(["train-check", str(repo), *args, "-o", str(out), "--max-steps", "0"])
    capsys.readouterr()
    data = json.loads(out.read_text())
    assert data["gpu"] == "NVIDIA H100 80GB HBM3" and data["gpu_utilization_mean"] == 7.0
    assert data["gpu_utilization_samples"] >= 2
    assert any("GPU was idle most of the time: mean utilisation 7%" in r for r in data["reasons"])


def test_gpu_query_reads_utilisation_and_not_supported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.runtime import gpu

    monkeypatch.setenv("PATH", str(fake_nvidia_smi(tmp_path / "a", "[N/A]")))
    assert gpu.query() == [gpu.Reading("NVIDIA H100 80GB HBM3", 1024.0, None)]
    monkeypatch.setenv("PATH", str(fake_nvidia_smi(tmp_path / "b", "93")))
    assert gpu.query()[0].utilization == 93.0
    assert gpu.idle_warning(93.0, 4) is None and gpu.idle_warning(None, 0) is None


def test_curve_warnings_need_a_training_loss_that_still_falls() -> None:
    def metric(name: str, values: list[float]) -> dict[str, object]:
        return M.summary(name, _series(values))

    val = [2.0, 1.5, 1.2, 1.0, 1.1, 1.3, 1.5, 1.8]
    rising_train = [1.0, 0.9, 0.8, 0.7, 0.8, 0.9, 1.0, 1.1]
    falling_train = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]
    both = {"val_loss": metric("val_loss", val), "loss": metric("loss", rising_train)}
    assert curve_warnings(both, {"val_loss", "loss"}) == []
    both["loss"] = metric("loss", falling_train)
    (warning,) = curve_warnings(both, {"val_loss", "loss"})
    assert "turned at step 3 (1) and rose to 1.8 by step 7 (+80%)" in warning
    noisy = [2.0, 1.5, 1.2, 1.0, 1.02, 1.3, 1.01, 1.25, 1.2]  # evaluation noise, no turn
    both["val_loss"] = metric("val_loss", noisy)
    assert curve_warnings(both, {"val_loss", "loss"}) == []


def test_configuration_echoes_and_tracebacks_are_no_metrics() -> None:
    """nanoGPT and minGPT print their configuration before training (a value once, or once
    and once overridden), and a failed run a traceback: none of it is a curve."""
    log = "\n".join(
        [
            "learning_rate = 6e-4 # max learning rate",
            "lr_decay_iters = 5000",
            "Overriding: lr_decay_iters = 2000",
            "min_lr = 6e-5",
            "trainer.grad_norm_clip: 1.0",
            "warmup_steps: 100",
            *[f"iter {i}: loss {4 - i / 10:.4f}, lr {1e-3 * (10 - i) / 10:.2e}" for i in range(10)],
            "Traceback (most recent call last):",
            '  File "train.py", line 3, in <module>',
            "    data = np.memmap(path, mode='r')  # acc: 0.5",
            "FileNotFoundError: [Errno 2] No such file or directory: 'train.bin'",
            "OSError: [Errno 28] No space left on device",
            "train final score: 12/9500 = 0.13% correct",
            "test final score: 0/500 = 0.00% correct",
        ]
    )
    found = M.summaries(M.from_text(log))
    assert set(found) == {"loss", "lr", "train final score", "test final score"}, found
    assert found["test final score"]["last"] == 0.0 and found["train final score"]["last"] == 0.13
    assert found["lr"]["kind"] == "lr" and len(found["lr"]["points"]) == 10
    assert M.kind_of("lr_decay_iters") == M.kind_of("grad_norm_clip") == "other"
