"""Differential test of the loaders that run code from data (forkvet/data/loaders.json;
outside attack, round 16a: hickle, torch.package, Keras configs in UTF-16, jsonpickle, Zarr
object arrays, a SavedModel's keras_metadata.pb, and the code scan's loader list).

For every loader in the table there is a case here (the table and this file cannot drift
apart: test_every_loader_in_the_table_has_a_case). Each case builds a payload file with the
loader's own writer where one is needed, in a child process, and the real loader then loads
it in another child process, with a timeout, from a throwaway folder: the payload only
writes a marker file there. When the marker appears, forkvet must report an error for the
file. A loader that is not installed skips its case, naming it. FORKVET_LOADER_PATH (folders,
`os.pathsep`-separated) adds loaders installed elsewhere (`pip install --target`) to the
children's sys.path, never to forkvet's.

The code scan's patterns come from the same table: every call name it lists is flagged, in
parsed code and by pattern in code ast cannot read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest

from forkvet.snapshot import load
from forkvet.vet import dataformats, risks, vet


@dataclass(frozen=True)
class Case:
    loader: str  # its id in loaders.json
    name: str
    path: str  # where the payload is written, relative to the repository
    needs: tuple[str, ...]  # modules the writer and the loader import
    build: str  # Python run in the repository: writes P so that loading runs CODE
    run: str  # Python that loads P as a user would
    gate: str = ""  # Python that fails where the installed loader does not behave so (skips)


_EVIL = """
class Evil:
    def __reduce__(self):
        return (exec, (CODE,))
"""
_PKL = 'import pickle\nopen(P, "wb").write(pickle.dumps(Evil(), protocol=2))\n'

_KERAS_MODEL = """
import keras
fn = eval("lambda x: (exec(%r), x)[1]" % CODE)  # the command inside the marshalled code
m = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(fn)])
"""
_KERAS_RUN = """
import keras, numpy as np
keras.config.enable_unsafe_deserialization()
{load}.predict(np.zeros((1, 4)), verbose=0)
"""

CASES = [
    Case(
        "pickle",
        "pickle",
        "model.pkl",
        (),
        _EVIL + _PKL,
        "import pickle\npickle.load(open(P, 'rb'))",
    ),
    Case(
        "torch-load",
        "torch-save",
        "ckpt/model.pt",
        ("torch",),
        _EVIL + "import torch\ntorch.save(Evil(), P)",
        "import torch\ntorch.load(P, weights_only=False)",
    ),
    Case(
        "joblib",
        "joblib-lz4",
        "model.joblib",
        ("joblib", "lz4"),
        _EVIL + "import joblib\njoblib.dump(Evil(), P, compress='lz4')",
        "import joblib\njoblib.load(P)",
    ),
    Case(
        "dill",
        "dill",
        "model.dill",
        ("dill",),
        _EVIL + "import dill\ndill.dump(Evil(), open(P, 'wb'))",
        "import dill\ndill.load(open(P, 'rb'))",
    ),
    Case(
        "cloudpickle",
        "cloudpickle",
        "model.cpkl",
        ("cloudpickle",),
        _EVIL + "import cloudpickle\nopen(P, 'wb').write(cloudpickle.dumps(Evil()))",
        "import cloudpickle\ncloudpickle.load(open(P, 'rb'))",
    ),
    Case(
        "pandas-pickle",
        "pandas-xz",
        "frame.pkl.xz",
        ("pandas",),
        _EVIL + "import pandas as pd\npd.to_pickle(Evil(), P)",
        "import pandas as pd\npd.read_pickle(P)",
    ),
    Case(
        "shelve",
        "shelve",
        "cache/store",
        (),
        _EVIL + "import shelve\nwith shelve.open(P) as db:\n    db['model'] = Evil()",
        "import shelve\nshelve.open(P, 'r')['model']",
    ),
    Case(
        "numpy-pickle",
        "npy-object",
        "labels.npy",
        ("numpy",),
        _EVIL + "import numpy as np\nnp.save(P, np.array([Evil()], dtype=object))",
        "import numpy as np\nnp.load(P, allow_pickle=True)",
    ),
    Case(
        "jsonpickle",
        "jsonpickle",
        "pipeline.json",
        ("jsonpickle",),
        'import json\nopen(P, "w").write(json.dumps({"name": "x", "steps": [{"py/reduce": '
        '[{"py/function": "builtins.exec"}, {"py/tuple": [CODE]}]}]}))',
        "import jsonpickle\njsonpickle.decode(open(P).read())",
    ),
    Case(
        "jsonpickle",
        "jsonpickle-utf16-escaped",
        "state.json",
        ("jsonpickle",),
        'import json\ntext = json.dumps([{"py/reduce": [{"py/function": "builtins.exec"}, '
        '{"py/tuple": [CODE]}]}]).replace("py/", "p\\\\u0079\\\\/")\n'
        'open(P, "wb").write(text.encode("utf-16-le"))',
        "import jsonpickle\njsonpickle.decode(open(P, 'rb').read())",
    ),
    Case(
        "hickle",
        "hickle-gzip-dataset",
        "model.hkl",
        ("hickle", "h5py", "numpy"),
        """
import hickle, h5py, numpy as np
class Scaler: pass
hickle.dump({'weights': np.zeros((4, 4), dtype='float32'), 'scaler': Scaler()}, P)
import pickle
"""
        + _EVIL
        + """
payload = pickle.dumps(Evil(), protocol=2)
with h5py.File(P, 'r+') as f:
    ds = f['data/"scaler"']; attrs = dict(ds.attrs); del f['data/"scaler"']
    nd = f['data'].create_dataset('"scaler"', data=np.frombuffer(payload, dtype='uint8'),
                                  compression='gzip')
    for k, v in attrs.items(): nd.attrs[k] = v
""",
        "import hickle\nhickle.load(P)",
    ),
    Case(
        "pytables",
        "pandas-hdf-object-column",
        "frame.h5",
        ("tables", "pandas"),
        _EVIL + "import pandas as pd\npd.DataFrame({'a': [Evil()]}).to_hdf(P, key='df')",
        "import pandas as pd\npd.read_hdf(P, 'df')",
    ),
    Case(
        "torch-package",
        "torch-package-own-argparse",
        "checkpoints/model.pt",
        ("torch",),
        """
import argparse, io, zipfile
from torch.package import PackageExporter
buf = io.BytesIO()
with PackageExporter(buf) as e:
    e.extern('argparse')
    e.save_pickle('model', 'config.pkl', argparse.Namespace(lr=0.1))
zin = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
root = zin.namelist()[0].split('/')[0]
with zipfile.ZipFile(P, 'w') as z:
    for n in zin.namelist():
        z.writestr(n, b'' if n.endswith('.data/extern_modules') else zin.read(n))
    z.writestr(root + '/argparse.py', CODE + '\\nclass Namespace:\\n'
               '    def __init__(self, **kw): self.__dict__.update(kw)\\n')
""",
        "from torch.package import PackageImporter\n"
        "PackageImporter(P).load_pickle('model', 'config.pkl')",
    ),
    Case(
        "keras-lambda",
        "keras-utf16-config",
        "model.keras",
        ("keras",),
        _KERAS_MODEL
        + """
import os, zipfile
m.save(P + '.tmp.keras')
zin = zipfile.ZipFile(P + '.tmp.keras')
with zipfile.ZipFile(P, 'w') as z:
    for n in zin.namelist():
        data = zin.read(n)
        z.writestr(n, data.decode('utf-8').encode('utf-16') if n == 'config.json' else data)
os.unlink(P + '.tmp.keras')
""",
        _KERAS_RUN.format(load="keras.saving.load_model(P)"),
    ),
    Case(
        "keras-lambda",
        "keras-json-utf32",
        "model.json",
        ("keras",),
        _KERAS_MODEL + "open(P, 'wb').write(m.to_json().encode('utf-32-be'))",
        _KERAS_RUN.format(load="keras.models.model_from_json(open(P, 'rb').read())"),
    ),
    Case(
        "keras-savedmodel",
        "tf-keras-savedmodel",
        "saved_model",
        ("tf_keras",),
        """
import tf_keras
layer = tf_keras.layers.Lambda(eval("lambda x: (exec(%r), x)[1]" % CODE))
m = tf_keras.Sequential([tf_keras.Input((4,)), layer])
m.save(P, save_format='tf')
""",
        "import tf_keras, numpy as np\ntf_keras.models.load_model(P).predict(np.zeros((1, 4)))",
    ),
    Case(
        "zarr-pickle",
        "zarr-blosc-pickle",
        "data/labels.zarr",
        ("zarr", "numcodecs"),
        """
import zarr, numcodecs, numpy as np, pickle
z = zarr.open(P, mode='w', shape=(1,), chunks=(1,), dtype=object,
              object_codec=numcodecs.Pickle(), compressor=numcodecs.Blosc(cname='lz4'))
z[:] = np.array(['cat'], dtype=object)
"""
        + _EVIL
        + "open(P + '/0', 'wb').write(numcodecs.Blosc(cname='lz4').encode("
        "pickle.dumps(Evil(), protocol=2)))",
        "import zarr\nzarr.open(P, mode='r')[:]",
    ),
    Case(
        "yaml",
        "yaml-python-tag",
        "configs/train.yaml",
        ("yaml",),
        "open(P, 'w').write('model: resnet\\nhooks: !!python/object/apply:builtins.exec [%r]\\n'"
        " % CODE)",
        "import yaml\nyaml.unsafe_load(open(P))",
    ),
]
_PYARROW_OLD = (
    "import pyarrow\n"
    "assert tuple(int(x) for x in pyarrow.__version__.split('.')[:3]) < (14, 0, 1), "
    "'pyarrow >= 14.0.1 no longer unpickles extension types'"
)
_PYEXT = """
import pyarrow as pa
class Ext(pa.PyExtensionType):
    def __init__(self):
        super().__init__(pa.int64())
    def __reduce__(self):
        return (exec, (CODE,))
table = pa.table({"label": pa.ExtensionArray.from_storage(Ext(), pa.array([1, 2], pa.int64())),
                  "x": pa.array([0.1, 0.2])})
"""
CASES += [
    Case(
        "pyarrow-extension",
        "parquet-py-extension-type",
        "data/train.parquet",
        ("pyarrow",),
        _PYEXT + "import pyarrow.parquet as pq\npq.write_table(table, P)",
        "import pyarrow.parquet as pq\npq.read_table(P)",  # what pd.read_parquet calls
        _PYARROW_OLD,
    ),
    Case(
        "pyarrow-extension",
        "feather-py-extension-type",
        "data/labels.feather",
        ("pyarrow",),
        _PYEXT + "import pyarrow.feather as feather\nfeather.write_feather(table, P)",
        "import pyarrow.feather as feather\nfeather.read_table(P)",
        _PYARROW_OLD,
    ),
    Case(
        "msgpack-numpy",
        "msgpack-numpy-object-array",
        "data/features.msgpack",
        ("msgpack", "msgpack_numpy", "numpy"),
        _EVIL + "import msgpack, msgpack_numpy, numpy as np, pickle\n"
        "obj = {b'nd': True, b'kind': b'O', b'type': b'|O', b'shape': [1],"
        " b'data': pickle.dumps(Evil())}\n"
        "open(P, 'wb').write(msgpack.packb({'feats': obj}))",
        "import msgpack, msgpack_numpy\n"
        "msgpack.unpackb(open(P, 'rb').read(), object_hook=msgpack_numpy.decode)",
    ),
    Case(
        "lmdb",
        "lmdb-pickled-values",
        "data/train_lmdb",
        ("lmdb",),
        _EVIL + "import lmdb, pickle\nenv = lmdb.open(P, map_size=1 << 24)\n"
        "with env.begin(write=True) as txn:\n"
        "    for i in range(20):\n"
        "        txn.put(b'%08d' % i, pickle.dumps({'label': i, 'img': bytes(5000 * (i % 2))}))\n"
        "    txn.put(b'99999999', pickle.dumps(Evil()))\n"
        "env.close()",
        "import lmdb, pickle\nenv = lmdb.open(P, readonly=True, lock=False)\n"
        "with env.begin() as txn:\n    [pickle.loads(v) for _, v in txn.cursor()]",
    ),
    Case(
        "stable-baselines3",
        "sb3-serialized-lr-schedule",
        "models/ppo_cartpole.zip",
        ("stable_baselines3", "gymnasium", "cloudpickle"),
        _EVIL
        + """
import base64, io, json, zipfile, cloudpickle
from stable_baselines3 import PPO
buf = io.BytesIO()
PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=32, verbose=0).save(buf)
src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
data = json.loads(src.read("data"))
data["lr_schedule"] = {":type:": "<class 'function'>",
                       ":serialized:": base64.b64encode(cloudpickle.dumps(Evil())).decode()}
with zipfile.ZipFile(P, "w", zipfile.ZIP_DEFLATED) as z:
    for n in src.namelist():
        z.writestr(n, json.dumps(data, indent=4) if n == "data" else src.read(n))
""",
        "from stable_baselines3 import PPO\nPPO.load(P)",
    ),
]
# A Keras 3.8 `.keras` archive whose functional model holds `layer` (defined before this).
_KERAS_FUNCTIONAL = """
cfg = {"module": "keras.src.models.functional", "class_name": "Functional",
       "registered_name": "Functional",
       "config": {"name": "m", "trainable": True, "layers": [layer],
                  "input_layers": [], "output_layers": []}}
with zipfile.ZipFile(P, "w") as z:
    z.writestr("metadata.json", json.dumps({"keras_version": "3.8.0"}))
    z.writestr("config.json", json.dumps(cfg))
    z.writestr("model.weights.h5", b"")
"""
CASES.append(
    Case(
        "keras-lambda",
        "keras-config-module-function",
        "models/classifier.keras",
        ("keras",),
        """
import json, zipfile
layer = {"module": "builtins", "class_name": "function", "config": "exec",
         "registered_name": "function", "name": "preprocess",
         "inbound_nodes": [{"args": [CODE], "kwargs": {}}]}
"""
        + _KERAS_FUNCTIONAL,
        "import keras\nkeras.saving.load_model(P)",
        "import keras\nassert tuple(int(x) for x in keras.__version__.split('.')[:2]) < (3, 9), "
        "'Keras >= 3.9 refuses modules outside Keras'",
    )
)
CASES.append(
    Case(
        "keras-lambda",
        "keras-config-tensorflow-write-file",
        "models/writer.keras",
        ("keras", "tensorflow"),
        # round 18a F2: a function of an allowed package (TensorFlow) that writes files
        """
import json, zipfile
layer = {"module": "tensorflow.io", "class_name": "function", "config": "write_file",
         "registered_name": "function", "name": "preprocess",
         "inbound_nodes": [{"args": [MARK, "ran"], "kwargs": {}}]}
"""
        + _KERAS_FUNCTIONAL,
        "import keras\ntry:\n    keras.saving.load_model(P)\nexcept Exception:\n    pass",
        "import keras\nassert tuple(int(x) for x in keras.__version__.split('.')[:2]) < (3, 9), "
        "'Keras >= 3.9 refuses functions as layers'",
    )
)
# Round 19a F1: Keras resolves `module + "." + class_name` and falls back to
# vars(module)[registered_name]; the whole resolved name is judged.
_KERAS_CONFIG = """
import json, os, zipfile
def functional(layer):
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "registered_name": "Functional",
            "config": {"name": "m", "trainable": True, "layers": [layer],
                       "input_layers": [], "output_layers": []}}
def keras_file(path, cfg):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.8.0"}))
        z.writestr("config.json", json.dumps(cfg))
        z.writestr("model.weights.h5", b"")
# get_file copies a file: URL into the marker's place
SRC = MARK + ".src"
open(SRC, "w").write("ran")
GET_FILE = {"args": [os.path.basename(MARK), "file://" + SRC],
            "kwargs": {"cache_dir": os.path.dirname(MARK), "cache_subdir": "."}}
"""
_KERAS_BEFORE_3_9 = (
    "import keras\nassert tuple(int(x) for x in keras.__version__.split('.')[:2]) < (3, 9), "
    "'Keras >= 3.9 refuses functions as layers'"
)
_KERAS_LOAD = "import keras\ntry:\n    keras.saving.load_model(P)\nexcept Exception:\n    pass"
CASES.append(
    Case(
        "keras-lambda",
        "keras-config-dotted-class-name",
        "models/dotted.keras",
        ("keras",),
        _KERAS_CONFIG
        + """
layer = {"module": "keras", "class_name": "utils.get_file", "config": {},
         "registered_name": None, "name": "g", "inbound_nodes": [GET_FILE]}
keras_file(P, functional(layer))
""",
        _KERAS_LOAD,
        _KERAS_BEFORE_3_9,
    )
)
CASES.append(
    Case(
        "keras-lambda",
        "keras-config-registered-name",
        "models/registered.keras",
        ("keras",),
        # `Nope` is not in keras.models: Keras 3.8 takes vars(keras.models)["load_model"],
        # which loads a config kept outside the repository (here: the dotted get_file)
        _KERAS_CONFIG
        + """
inner = os.path.join(os.path.dirname(MARK), "inner.keras")
keras_file(inner, functional({"module": "keras", "class_name": "utils.get_file", "config": {},
                              "registered_name": None, "name": "g",
                              "inbound_nodes": [GET_FILE]}))
layer = {"module": "keras.models", "class_name": "Nope", "config": {},
         "registered_name": "load_model", "name": "g",
         "inbound_nodes": [{"args": [inner], "kwargs": {}}]}
keras_file(P, functional(layer))
""",
        _KERAS_LOAD,
        _KERAS_BEFORE_3_9,
    )
)
CASES.append(
    Case(
        "keras-lambda",
        "tf-keras-h5-tfoplambda",
        "model.h5",
        ("tensorflow", "h5py"),
        # Round 19a F9: tf.keras's TFOpLambda calls whatever TensorFlow symbol its config
        # names (no `module` key in an .h5 config): here io.read_file of a file outside
        # the repository, which the model then returns (the run writes the marker when it does)
        """
import json, h5py, tensorflow as tf
open(MARK + ".secret", "w").write("secret")
inp = tf.keras.Input(batch_shape=(), dtype=tf.string)
m = tf.keras.Model(inp, tf.strings.lower(inp))
m.save(P)
f = h5py.File(P, "r+")
cfg = json.loads(f.attrs["model_config"])
for layer in cfg["config"]["layers"]:
    if layer["class_name"] == "TFOpLambda":
        layer["config"]["function"] = "io.read_file"
        layer["inbound_nodes"][0][3] = {}  # lower's own keyword arguments
f.attrs["model_config"] = json.dumps(cfg)
f.close()
""",
        """
import tensorflow as tf
m = tf.keras.models.load_model(P)
if m(tf.constant(MARK + ".secret")).numpy() == b"secret":
    open(MARK, "w").write("ran")
""",
        "import tensorflow as tf\nassert int(tf.__version__.split('.')[1]) < 16 or "
        "tf.__version__.startswith('1.'), 'tf.keras is Keras 3 (no TFOpLambda) from TF 2.16'",
    )
)
CASES.append(
    Case(
        "tf-savedmodel",
        "savedmodel-resource-initializer",
        "exported/sm",
        ("tensorflow",),
        # round 18a F1: tf.saved_model.load runs each resource's initializer while it loads
        """
import tensorflow as tf
class R(tf.saved_model.experimental.TrackableResource):
    def _create_resource(self):
        return tf.raw_ops.VarHandleOp(dtype=tf.float32, shape=[], shared_name="")
    def _initialize(self):
        tf.io.write_file(MARK, "ran")
        return tf.raw_ops.AssignVariableOp(resource=self.resource_handle, value=1.0)
m = tf.Module()
m.r = R()
tf.saved_model.save(m, P)
""",
        "import tensorflow as tf\ntf.saved_model.load(P)",
    )
)
CASES.append(
    Case(
        "tf-savedmodel",
        "savedmodel-tf1-main-op",
        "export/tf1",
        ("tensorflow",),
        # round 18a F1, TF1 form: both TF1's loader and TF2's run the main_op
        """
import tensorflow as tf
tf1 = tf.compat.v1
tf1.disable_eager_execution()
with tf1.Session(graph=tf.Graph()) as s:
    x = tf1.placeholder(tf.float32, [None], name="x")
    y = tf.identity(x * 2.0, name="y")
    b = tf1.saved_model.builder.SavedModelBuilder(P)
    sig = tf1.saved_model.predict_signature_def({"x": x}, {"y": y})
    b.add_meta_graph_and_variables(s, ["serve"], main_op=tf.io.write_file(MARK, "ran"),
                                   signature_def_map={"serving_default": sig})
    b.save()
""",
        "import tensorflow as tf\ntf.saved_model.load(P, tags=['serve'])",
    )
)
_TF1_GRAPH = """
import tensorflow as tf
tf1 = tf.compat.v1
tf1.disable_eager_execution()
g = tf.Graph()
with g.as_default():
    x = tf1.placeholder(tf.float32, [None], name="x")
    w = tf.io.write_file(MARK, "ran")
    with tf.control_dependencies([w]):
        y = tf.identity(x * 2.0, name="y")
"""
# round 19a F2: a checkpoint's .meta (a MetaGraphDef) names the op Saver.restore runs
CASES.append(
    Case(
        "tf-savedmodel",
        "tf1-meta-restore-op",
        "ckpt/model.ckpt.meta",
        ("tensorflow",),
        _TF1_GRAPH
        + """
    v = tf1.Variable(1.0, name="v")
    saver = tf1.train.Saver([v])
    restore = tf.group(g.get_operation_by_name(saver.saver_def.restore_op_name), w)
    saver.saver_def.restore_op_name = restore.name
    with tf1.Session(graph=g) as s:
        s.run(v.initializer)
        saver.save(s, P[: -len(".meta")], write_meta_graph=False)
    meta = tf1.train.export_meta_graph(graph=g, saver_def=saver.saver_def)
open(P, "wb").write(meta.SerializeToString())
""",
        """
import tensorflow as tf
tf1 = tf.compat.v1
tf1.disable_eager_execution()
with tf1.Session(graph=tf.Graph()) as s:
    saver = tf1.train.import_meta_graph(P)
    saver.restore(s, P[: -len(".meta")])
""",
    )
)
# round 19a F3: a frozen GraphDef, run as the standard idiom does
CASES.append(
    Case(
        "tf-savedmodel",
        "tf1-frozen-graph-def",
        "frozen_inference_graph.pb",
        ("tensorflow",),
        _TF1_GRAPH + "open(P, 'wb').write(g.as_graph_def().SerializeToString())\n",
        """
import tensorflow as tf
tf1 = tf.compat.v1
tf1.disable_eager_execution()
gd = tf1.GraphDef()
gd.ParseFromString(open(P, "rb").read())
with tf.Graph().as_default() as g:
    tf.import_graph_def(gd, name="")
    with tf1.Session(graph=g) as s:
        s.run("y:0", {"x:0": [1.0]})
""",
    )
)
# round 19a F7: a TensorFlow Lite model with a Flex (SELECT_TF_OPS) op
CASES.append(
    Case(
        "tf-savedmodel",
        "tflite-flex-write-file",
        "model.tflite",
        ("tensorflow",),
        """
import tensorflow as tf
@tf.function(input_signature=[tf.TensorSpec([2], tf.float32)])
def f(x):
    tf.io.write_file(MARK, "ran")
    return x * 2.0
c = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
open(P, "wb").write(c.convert())
""",
        """
import numpy as np, tensorflow as tf
i = tf.lite.Interpreter(model_path=P)
i.allocate_tensors()
i.set_tensor(i.get_input_details()[0]["index"], np.ones(2, np.float32))
i.invoke()
""",
    )
)
# round 19a F8: a table initializer reading a file outside the model (an absolute path);
# the marker stands for the model handing that file's text to whoever queries it
CASES.append(
    Case(
        "tf-savedmodel",
        "savedmodel-table-reads-outside",
        "export/tf1",
        ("tensorflow",),
        """
import tensorflow as tf
tf1 = tf.compat.v1
tf1.disable_eager_execution()
secret = os.path.join(os.path.dirname(MARK), "secret.txt")
open(secret, "w").write("hunter2\\n")
with tf1.Session(graph=tf.Graph()) as s:
    x = tf1.placeholder(tf.string, [None], name="x")
    path = tf.strings.join([os.path.dirname(secret) + "/", "secret.txt"])
    init = tf.lookup.TextFileInitializer(path, tf.string, -2, tf.int64, -1)
    keys, _ = tf.lookup.StaticHashTable(init, -1).export()
    y = tf.identity(keys, name="y")
    b = tf1.saved_model.builder.SavedModelBuilder(P)
    sig = tf1.saved_model.predict_signature_def({"x": x}, {"y": y})
    b.add_meta_graph_and_variables(s, ["serve"], main_op=tf1.tables_initializer(),
                                   signature_def_map={"serving_default": sig})
    b.save()
""",
        """
import tensorflow as tf
tf1 = tf.compat.v1
tf1.disable_eager_execution()
with tf1.Session(graph=tf.Graph()) as s:
    tf1.saved_model.loader.load(s, ["serve"], P)
    if b"hunter2" in s.run("y:0", {"x:0": ["a"]}).tolist():
        open(MARK, "w").write("ran")
""",
    )
)
CASES.append(
    Case(
        "keras-lambda",
        "keras-tfsm-layer",
        "models/wrapped.keras",
        ("keras", "tensorflow"),
        # round 18a F1 through Keras (3.10, safe_mode=True, only keras.* modules): TFSMLayer
        # loads the SavedModel its config names, which runs its resource initializer
        """
import json, zipfile
import tensorflow as tf
class R(tf.saved_model.experimental.TrackableResource):
    def _create_resource(self):
        return tf.raw_ops.VarHandleOp(dtype=tf.float32, shape=[], shared_name="")
    def _initialize(self):
        tf.io.write_file(MARK, "ran")
        return tf.raw_ops.AssignVariableOp(resource=self.resource_handle, value=1.0)
m = tf.Module()
m.r = R()
target = os.path.join(os.path.dirname(os.path.dirname(P)), "tfsm_target")  # not P's error
tf.saved_model.save(m, target)
layer = {"module": "keras.layers", "class_name": "TFSMLayer", "registered_name": None,
         "config": {"filepath": target, "call_endpoint": "serving_default", "name": "t"}}
cfg = {"module": "keras", "class_name": "Sequential", "registered_name": None,
       "config": {"name": "s", "trainable": True, "layers": [layer]}}
with zipfile.ZipFile(P, "w") as z:
    z.writestr("metadata.json", json.dumps({"keras_version": "3.10.0"}))
    z.writestr("config.json", json.dumps(cfg))
""",
        "import keras\ntry:\n    keras.saving.load_model(P)\nexcept Exception:\n    pass",
    )
)
CASES.append(
    Case(
        "torch-aoti",
        "aoti-package-shared-library",
        "exported/model.pt2",
        ("torch",),
        # A minimal AOTInductor package whose shared library's ELF constructor writes the
        # marker (round 18a F6: the real loader dlopens it before it looks up any symbol).
        """
import subprocess, zipfile, os
src = P + ".c"
open(src, "w").write('#include <stdio.h>\\n__attribute__((constructor)) static void f(void)'
                     '{FILE*p=fopen("%s","w");if(p){fputs("ran",p);fclose(p);}}\\n' % MARK)
subprocess.check_call(["cc", "-shared", "-fPIC", "-o", P + ".so", src])
d = "model/data/aotinductor/model/"
with zipfile.ZipFile(P, "w") as z:
    for name, data in (("model/archive_format", "pt2"), ("model/archive_version", "0"),
                       ("model/.data/version", "1\\n"), ("model/byteorder", "little"),
                       (d + "m.wrapper_metadata.json", '{"AOTI_DEVICE_KEY": "cpu"}'),
                       (d + "m.wrapper.cpp", "")):
        z.writestr(name, data)
    z.write(P + ".so", d + "m.wrapper.so")
os.remove(src); os.remove(P + ".so")
""",
        "import torch\ntry:\n    torch._inductor.aoti_load_package(P)\nexcept Exception:\n    pass",
        "import shutil, torch\nassert shutil.which('cc'), 'no C compiler'\n"
        "assert hasattr(torch._inductor, 'aoti_load_package'), 'torch before 2.6'",
    )
)
CASES.append(
    Case(
        "skops",
        "skops-constructor-from-reduce",
        "models/model.skops",
        ("skops",),
        # round 18a F8: the documented idiom trusts what get_untrusted_types lists
        """
import json, zipfile
arg = {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
       "content": json.dumps(CODE), "is_json": True}
schema = {"__class__": "exec", "__module__": "builtins", "__loader__": "ConstructorFromReduceNode",
          "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
                      "content": [arg]},
          "protocol": 2, "_skops_version": "0.16.0"}
with zipfile.ZipFile(P, "w") as z:
    z.writestr("schema.json", json.dumps(schema))
""",
        "import skops.io as sio\ntry:\n    sio.load(P, trusted=sio.get_untrusted_types(file=P))\n"
        "except Exception:\n    pass",
    )
)
# Round 18a F3, F4: what NeMo's restore_from and FlexTok's load_model_from_safetensors do
# with a config inside a weights file (untar and OmegaConf.load; a header's __metadata__
# values parsed), then hydra.utils.instantiate.
# (hydra-core 1.3.8 blocklists exec/eval/os.system; builtins.open is not on its list)
_HYDRA_CFG = "{'_target_': 'builtins.open', '_args_': [MARK, 'w']}"
CASES += [
    Case(
        "hydra-instantiate",
        "hydra-nemo-model-config",
        "checkpoints/asr.nemo",
        ("hydra", "omegaconf", "yaml"),
        f"""
import io, tarfile, yaml
data = yaml.safe_dump({_HYDRA_CFG}).encode()
with tarfile.open(P, 'w') as tf:
    info = tarfile.TarInfo('./model_config.yaml'); info.size = len(data)
    tf.addfile(info, io.BytesIO(data))
""",
        """
import os, tarfile, tempfile, hydra.utils
from omegaconf import OmegaConf
with tempfile.TemporaryDirectory() as d:
    tarfile.open(P).extractall(d)
    conf = OmegaConf.load(os.path.join(d, 'model_config.yaml'))
    if '_target_' in conf:
        hydra.utils.instantiate(conf)
""",
    ),
    Case(
        "hydra-instantiate",
        "hydra-safetensors-metadata",
        "model.safetensors",
        ("hydra", "yaml"),
        f"""
import json, struct
meta = {{'format': 'pt', 'config': json.dumps({_HYDRA_CFG})}}
header = json.dumps({{'__metadata__': meta,
                     'w': {{'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}}}}).encode()
open(P, 'wb').write(struct.pack('<Q', len(header)) + header + bytes(4))
""",
        """
import json, yaml, hydra.utils
data = open(P, 'rb').read()
meta = json.loads(data[8:8 + int.from_bytes(data[:8], 'little')])['__metadata__']
hydra.utils.instantiate(yaml.safe_load(meta['config']))
""",
    ),
]
# Round 19a F4: a link leaving the tree, named like an image or a document, read by a loader
# (the payload lies beside the repository, where a companion clone or a cache would put it).
_LINK_OUT = """
import os
out = os.path.join(os.path.dirname(os.getcwd()), "outside")  # beside the repository
os.makedirs(out, exist_ok=True)
"""
# A compressed stream cut after the pickle's STOP: the file objects hand out what came
# before the cut, and the loader has run the pickle before it would ask for more (outside
# attack, round 20a F9).
CASES += [
    Case(
        "pandas-pickle",
        "pandas-bz2-cut",
        "frame.pkl.bz2",
        ("pandas",),
        _EVIL + "import bz2, pickle\nopen(P, 'wb').write(bz2.compress(pickle.dumps(Evil()))[:-10])",
        "import pandas as pd\npd.read_pickle(P)",
    ),
    Case(
        "pickle",
        "pickle-xz-cut",
        "model.pkl.xz",
        (),
        _EVIL
        + "import lzma, pickle\nopen(P, 'wb').write(lzma.compress(pickle.dumps(Evil()))[:-10])",
        "import lzma, pickle\npickle.load(lzma.open(P))",
    ),
    Case(
        "pickle",
        "pickle-lz4-cut",
        "model.pkl.lz4",
        ("lz4",),
        _EVIL
        + "import lz4.frame, pickle\n"
        + "open(P, 'wb').write(lz4.frame.compress(pickle.dumps(Evil()))[:-4])",
        "import lz4.frame, pickle\npickle.load(lz4.frame.open(P))",
    ),
]
CASES += [
    Case(
        "pickle",
        "pickle-through-an-image-link",
        "assets/banner.png",
        (),
        _EVIL
        + _LINK_OUT
        + """
import pickle
open(os.path.join(out, "evil.pkl"), "wb").write(pickle.dumps(Evil(), protocol=2))
os.symlink(os.path.join(out, "evil.pkl"), P)
""",
        "import pickle\npickle.load(open(P, 'rb'))",
    ),
    Case(
        "torch-load",
        "torch-through-a-document-folder-link",
        "weights.md",
        ("torch",),
        _EVIL
        + _LINK_OUT
        + """
import torch
torch.save(Evil(), os.path.join(out, "model.pt"))
os.symlink(out, P)
""",
        "import os, torch\ntorch.load(os.path.join(P, 'model.pt'), weights_only=False)",
    ),
]
CASES += [
    # Hydra 1.0 instantiates `target`/`cls`/`class` when there is no `_target_` (round 19a F6)
    Case(
        "hydra-instantiate",
        f"hydra10-legacy-{key}",
        "configs/config.yaml",
        ("hydra", "yaml"),
        f"""
import yaml
cfg = {_HYDRA_CFG}
cfg['{key}'] = cfg.pop('_target_')
open(P, 'w').write(yaml.safe_dump({{'model': cfg}}))
""",
        """
import hydra.utils
from omegaconf import OmegaConf
hydra.utils.instantiate(OmegaConf.load(P).model)
""",
        gate="import hydra; assert hydra.__version__.startswith('1.0'), 'not Hydra 1.0'",
    )
    for key in ("target", "cls", "class")
] + [
    # Lightning's load_from_checkpoint hands a checkpoint's pickled hyper_parameters to the
    # module, which instantiates them (round 19a F11)
    Case(
        "hydra-instantiate",
        "hydra-pickled-hyper-parameters",
        "checkpoints/last.ckpt",
        ("hydra",),
        f"""
import pickle
ckpt = {{'state_dict': {{}}, 'hyper_parameters': {{'net': {_HYDRA_CFG}, 'lr': 0.1}}}}
open(P, 'wb').write(pickle.dumps(ckpt, protocol=2))
""",
        """
import pickle, hydra.utils
hydra.utils.instantiate(pickle.load(open(P, 'rb'))['hyper_parameters']['net'])
""",
    ),
]
# Round 20a F1, F3, F5, F11: config readers beyond YAML/JSON that instantiate what they name.
_GIN_RUN = """
import gin

@gin.configurable
def train(callback=None):
    return callback

gin.parse_config_file(P)
train()
"""
CASES += [
    Case(
        "gin-config",
        "gin-dynamic-registration",
        "configs/base.gin",
        ("gin",),
        r"""
open(P, 'w').write(
    "from __gin__ import dynamic_registration\n"
    "import __main__ as script\n"
    "import subprocess\n"
    f"subprocess.Popen.args = ['touch', {MARK!r}]\n"
    "script.train.callback = @subprocess.Popen()\n"
)
""",
        _GIN_RUN,
    ),
    Case(
        "hydra-instantiate",
        "hydra-toml-config",
        "configs/model.toml",
        ("hydra", "tomllib"),
        "open(P, 'w').write(f'[model]\\n_target_ = \"builtins.open\"\\nfile = {MARK!r}\\n"
        'mode = "w"\\n\')',
        "import tomllib, hydra.utils\n"
        "hydra.utils.instantiate(tomllib.load(open(P, 'rb'))['model'])",
    ),
    Case(
        "hydra-instantiate",
        "hydra-ini-config",
        "configs/model.ini",
        ("hydra",),
        "open(P, 'w').write(f'[model]\\n_TARGET_ = builtins.open\\nfile = {MARK}\\nmode = w\\n')",
        """
import configparser, hydra.utils
cp = configparser.ConfigParser()
cp.read(P)
hydra.utils.instantiate(dict(cp['model']))
""",
    ),
    Case(
        "mmengine-config",
        "mmengine-python-config",
        "configs/retinanet.py",
        ("mmengine",),
        "open(P, 'w').write(f'model = dict(type=\"builtins.open\", file={MARK!r}, "
        "mode=\"w\")\\n')\nopen('train.py', 'w').write('from mmengine.config import Config\\n')",
        """
from mmengine.config import Config
from mmengine.registry import MODELS
MODELS.build(Config.fromfile(P).model)
""",
    ),
    Case(
        "omegaconf-resolver",
        "omegaconf-shell-resolver",
        "configs/model.yaml",
        ("omegaconf",),
        r"""
open('train.py', 'w').write(
    "import os\nfrom omegaconf import OmegaConf\n"
    "OmegaConf.register_new_resolver('sh', os.system)\n"
    "print(OmegaConf.load('configs/model.yaml').width)\n"
)
open(P, 'w').write(f'width: ${{sh:touch {MARK}}}\n')
""",
        """
import os
from omegaconf import OmegaConf
OmegaConf.register_new_resolver('sh', os.system)
print(OmegaConf.load(P).width)
""",
    ),
]
# Round 20a F8: the own-code exemption of a target follows what the module binds the name to
# (a `class Net` rebound by `Net = ...`, a decorator returning another callable).
_OWN_REPO = """
import os, yaml
repo = os.path.dirname(os.path.dirname(P))
os.makedirs(os.path.join(repo, 'nets'), exist_ok=True)
open(os.path.join(repo, 'nets', '__init__.py'), 'w').close()
open(os.path.join(repo, 'nets', 'own.py'), 'w').write(SOURCE)
cfg = {'model': {'_target_': 'nets.own.Net', '_args_': [MARK, 'w']}}
open(P, 'w').write(yaml.safe_dump(cfg))
"""
_OWN_RUN = """
import os, sys, hydra.utils
from omegaconf import OmegaConf
sys.path.insert(0, os.path.dirname(os.path.dirname(P)))
hydra.utils.instantiate(OmegaConf.load(P).model)
"""
CASES += [
    Case(
        "hydra-instantiate",
        "hydra-own-name-rebound",
        "configs/rebound.yaml",
        ("hydra", "omegaconf", "yaml"),
        'SOURCE = "import builtins\\nclass Net:\\n    pass\\nNet = builtins.open\\n"\n' + _OWN_REPO,
        _OWN_RUN,
    ),
    Case(
        "hydra-instantiate",
        "hydra-own-name-decorated",
        "configs/decorated.yaml",
        ("hydra", "omegaconf", "yaml"),
        'SOURCE = "import builtins\\ndef reg(f):\\n    return builtins.open\\n@reg\\ndef Net():\\n'
        '    pass\\n"\n' + _OWN_REPO,
        _OWN_RUN,
    ),
]
# Round 20a F2, F7: config strings a library evaluates. YOLOv5's parse_model (its two eval
# lines, copied: ultralytics is heavy) and rl_zoo3's ExperimentManager (policy_kwargs).
_PAYLOAD = "__import__('builtins').open(%r, 'w').write('ran') and 64"
CASES += [
    Case(
        "config-string-eval",
        "yolov5-parse-model-args",
        "models/yolov5s.yaml",
        ("yaml",),
        f"""
import yaml
layer = [-1, 1, 'Conv', [{_PAYLOAD!r} % MARK, 1]]
cfg = {{'nc': 1, 'backbone': [[-1, 1, 'Conv', [16, 1]]], 'head': [layer]}}
open(P, 'w').write(yaml.safe_dump(cfg))
""",
        """
import contextlib, yaml
class Conv:
    def __init__(self, *args):
        self.args = args
d = yaml.safe_load(open(P))
for f, n, m, args in d['backbone'] + d['head']:
    m = eval(m) if isinstance(m, str) else m  # eval strings (models/yolo.py parse_model)
    for j, a in enumerate(args):
        with contextlib.suppress(NameError):
            args[j] = eval(a) if isinstance(a, str) else a  # eval strings
    m(*args)
""",
    ),
    Case(
        "config-string-eval",
        "rl-zoo3-policy-kwargs",
        "hyperparams/ppo.yml",
        ("rl_zoo3", "yaml"),
        f"""
import yaml
kwargs = "dict(net_arch=[8], ortho_init=bool(%s))" % ({_PAYLOAD!r} % MARK)
cfg = {{'CartPole-v1': {{'n_envs': 1, 'policy': 'MlpPolicy', 'n_timesteps': 64,
                         'n_steps': 32, 'policy_kwargs': kwargs}}}}
open(P, 'w').write(yaml.safe_dump(cfg))
""",
        """
import runpy, sys
sys.argv = ['train', '--algo', 'ppo', '--env', 'CartPole-v1', '-conf', P, '-n', '64',
            '--log-folder', 'logs']
try:
    runpy.run_module('rl_zoo3.train', run_name='__main__')
except SystemExit:
    pass
""",
    ),
]
# Round 21a F9, F10: logging's config loaders (standard library). fileConfig evaluates an INI
# handler's `args` (config-string-eval); dictConfig imports a `()` factory and calls it with the
# entry's keys, as hydra.utils.instantiate calls a `_target_` (hydra-instantiate).
_HYDRA_MAIN = """
import os, subprocess, sys
import hydra
sys.argv = sys.argv[:1]

@hydra.main(version_base=None, config_path=os.path.dirname(P), config_name='config')
def main(cfg):
    {body}

try:
    main()
except BaseException:
    pass  # dictConfig fails after the factory ran
"""
_INI_HEAD = (
    "[loggers]\nkeys=root\n\n[handlers]\nkeys=h\n\n[formatters]\nkeys=\n\n"
    "[logger_root]\nlevel=INFO\nhandlers=h\n\n[handler_h]\nclass=StreamHandler\n"
)
CASES += [
    Case(
        "config-string-eval",
        "logging-fileconfig-args",
        "logging.conf",
        ("logging.config",),
        f"""
args = "(sys.stderr if %s else sys.stderr,)" % ({_PAYLOAD!r} % MARK)
open(P, 'w').write({_INI_HEAD!r} + 'args=' + args.replace('%', '%%') + '\\n')
""",
        "import logging.config\nlogging.config.fileConfig(P)\n",
    ),
    # Round 21a F8, F9: Hydra applies `hydra.job.env_set` to os.environ before the task runs
    # (BASH_ENV: every non-interactive bash a child starts sources it), and hands
    # `hydra.job_logging` to dictConfig (a handler's `()` factory is imported and called).
    Case(
        "hydra-instantiate",
        "hydra-env-set-bash-env",
        "conf/config.yaml",
        ("hydra",),
        """
import os
script = os.path.join(os.path.dirname(P), 'env.sh')
open(script, 'w').write('touch %s\\n' % MARK)
open(P, 'w').write('x: 1\\nhydra:\\n  job:\\n    env_set:\\n      BASH_ENV: %s\\n' % script)
""",
        _HYDRA_MAIN.format(body="subprocess.run(['bash', '-c', 'true'])"),
    ),
    Case(
        "hydra-instantiate",
        "hydra-job-logging-factory",
        "conf/config.yaml",
        ("hydra",),
        """
import json
handler = json.dumps({'()': 'builtins.open', 'file': MARK, 'mode': 'w'})
open(P, 'w').write('x: 1\\nhydra:\\n  job_logging:\\n    version: 1\\n'
                   '    handlers:\\n      audit: %s\\n' % handler)
""",
        _HYDRA_MAIN.format(body="pass"),
    ),
    # Round 21a F6: a HyperPyYAML tag written as a YAML verbatim tag is the tag ruamel
    # resolves (`!<!apply:builtins.exec>` is `!apply:builtins.exec`).
    Case(
        "hydra-instantiate",
        "hyperpyyaml-verbatim-tag",
        "hyperparams.yaml",
        ("hyperpyyaml",),
        "import json\nopen(P, 'w').write('sample_rate: 16000\\nrun: !<!apply:builtins.exec> "
        "[%s]\\n' % json.dumps(CODE))\n",
        "from hyperpyyaml import load_hyperpyyaml\nload_hyperpyyaml(open(P))\n",
    ),
    Case(
        "hydra-instantiate",
        "logging-dictconfig-factory",
        "conf/logging.yaml",
        ("yaml", "logging.config"),
        """
import yaml
cfg = {'version': 1, 'handlers': {'audit': {'()': 'builtins.open', 'file': MARK, 'mode': 'w'}},
       'root': {'handlers': []}}
open(P, 'w').write(yaml.safe_dump(cfg))
""",
        """
import logging.config, yaml
try:
    logging.config.dictConfig(yaml.safe_load(open(P)))
except Exception:
    pass  # an open() is no handler: dictConfig fails after it ran
""",
    ),
]
# Round 22a F2, F12, F18, F3, F19 (fixed in round 23): the sink rules read every syntax (a
# dictConfig kept in TOML), fileConfig's formatter `defaults` (eval'd by Python 3.12+: skipped on
# an older one), a TOML `_target_` beside a 490-deep array (hydra-core), and the files a tool
# executes from the working folder (pdb's `.pdbrc`, pylint's `init-hook`).
_DEEP_TOML = "model._target_ = 'builtins.exec'\nmodel._args_ = [%r]\nsweep.grid = %s1%s\n"
CASES += [
    Case(
        "hydra-instantiate",
        "logging-dictconfig-toml",
        "logging.toml",
        ("tomllib", "logging.config"),
        """
open(P, 'w').write('version = 1\\n[handlers.audit]\\n"()" = "builtins.open"\\n'
                   'file = %r\\nmode = "w"\\n[root]\\nhandlers = []\\n' % MARK)
""",
        """
import logging.config, tomllib
try:
    logging.config.dictConfig(tomllib.load(open(P, 'rb')))
except Exception:
    pass  # an open() is no handler: dictConfig fails after it ran
""",
    ),
    Case(
        "config-string-eval",
        "logging-fileconfig-formatter-defaults",
        "logging.conf",
        ("logging.config",),
        f"""
head = {_INI_HEAD!r}.replace('keys=\\n', 'keys=f\\n') + 'formatter=f\\nargs=(sys.stderr,)\\n'
form = '[formatter_f]\\nformat=%%(message)s\\ndefaults=' + ({_PAYLOAD!r} % MARK).replace('%', '%%')
open(P, 'w').write(head + form + '\\n')
""",
        "import logging.config\nlogging.config.fileConfig(P)\n",
        gate="import sys\nassert sys.version_info >= (3, 12), 'formatter defaults: Python 3.12+'",
    ),
    Case(
        "hydra-instantiate",
        "toml-target-past-forkvets-stack",
        "train.toml",
        ("hydra", "tomllib"),
        f"open(P, 'w').write({_DEEP_TOML!r} % (CODE, '[' * 490, ']' * 490))",
        """
import tomllib
from hydra.utils import instantiate
instantiate(tomllib.load(open(P, 'rb'))['model'])
""",
    ),
    Case(
        "config-string-eval",
        "pdbrc",
        ".pdbrc",
        ("pdb",),
        "open(P, 'w').write(CODE + '\\ncontinue\\n')",
        """
import io, pdb
os.chdir(os.path.dirname(P))
pdb.Pdb(stdin=io.StringIO(''), stdout=io.StringIO()).run('x = 1')
""",
    ),
    Case(
        "config-string-eval",
        "pylint-init-hook",
        ".pylintrc",
        ("pylint",),
        "open(P, 'w').write('[MAIN]\\ninit-hook=' + CODE + '\\n')",
        """
os.chdir(os.path.dirname(P))
open('m.py', 'w').write('x = 1\\n')
from pylint.lint import Run
Run(['m.py'], exit=False)
""",
    ),
]
# Loaders whose files another loader's case covers.
# Round 22 (outside attack, round 21a F1, F2, F7, L1): streams found by what their decoders
# accept, the CRLF checkout git's attributes make of a binary pickle, torch.export programs.
_ALONE = """
import lzma, pickle
f = {"id": lzma.FILTER_LZMA1, "lc": LC, "lp": 0, "pb": 0, "dict_size": 1 << 20}
c = lzma.LZMACompressor(format=lzma.FORMAT_ALONE, filters=[f])
open(P, "wb").write(c.compress(pickle.dumps(Evil(), protocol=2)) + c.flush())
"""
_BINARY_CRLF = """
import struct
code = CODE.encode()
while True:  # no LF or CR in the length fields: only the padding converts
    head = b"\\x8c\\x08builtins\\x8c\\x04exec\\x93X"
    act = head + struct.pack("<I", len(code)) + code + b"\\x85R."
    body = b"\\n" * len(act) + act
    lengths = struct.pack("<IQ", len(code), len(body))
    if b"\\n" not in lengths and b"\\r" not in lengths and b"\\n" not in code:
        break
    code += b" "
open(P, "wb").write(b"\\x80\\x04K\\x000\\x8e" + struct.pack("<Q", len(body)) + body + b"0}.")
open(os.path.join(os.path.dirname(P), ".gitattributes"), "w").write("*.pkl text\\n")
"""
_CLONE_CRLF = """
import os, pickle, shutil, subprocess
work = os.path.abspath("work")
shutil.copytree(os.path.dirname(P), work)
def git(*a, cwd=work):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *a], cwd=cwd, check=True)
git("init", "-q"); git("add", "-A"); git("commit", "-qm", "x")
git("clone", "-q", "-c", "core.autocrlf=true", work, "co", cwd=".")
pickle.load(open(os.path.join("co", os.path.basename(P)), "rb"))
"""
_EXPORT = """
import json, zipfile, torch
m = torch.nn.Sequential(torch.nn.Linear(2, 2))
torch.export.save(torch.export.export(m, (torch.zeros(1, 2),)), P + ".base")
with zipfile.ZipFile(P + ".base") as zin, zipfile.ZipFile(P, "w") as zout:
    for info in zin.infolist():
        data = zin.read(info)
        if info.filename.endswith("/models/model.json"):
            graph = json.loads(data)
            # no quote in it: the loader also quotes the guard in a message it writes
            graph["guards_code"] = ["exec(bytes(%r)) is None" % (tuple(CODE.encode()),)]
            data = json.dumps(graph).encode()
        zout.writestr(info, data)
os.remove(P + ".base")
"""
CASES += [
    Case(
        "pandas-pickle",
        "pandas-xz-lzma-alone-properties-0",
        "frame.pkl.xz",
        ("pandas",),
        _EVIL + _ALONE.replace("LC", "0"),
        "import pandas as pd\npd.read_pickle(P)",
    ),
    Case(
        "pickle",
        "pickle-lzma-open-alone-lc-4",
        "model.pkl.lzma",
        (),
        _EVIL + _ALONE.replace("LC", "4"),
        "import lzma, pickle\npickle.load(lzma.open(P))",
    ),
    Case(
        "pickle",
        "pickle-zlib-window-512",
        "model.pkl.z",
        (),
        _EVIL
        + "import pickle, zlib\nc = zlib.compressobj(6, zlib.DEFLATED, 9)\n"
        + "open(P, 'wb').write(c.compress(pickle.dumps(Evil())) + c.flush())",
        "import pickle, zlib\npickle.loads(zlib.decompress(open(P, 'rb').read()))",
    ),
    Case(
        "pickle",
        "pickle-binary-with-text-attribute-crlf-clone",
        "model.pkl",
        (),
        _BINARY_CRLF,
        _CLONE_CRLF,
        gate="import shutil\nassert shutil.which('git'), 'git is not installed'",
    ),
    Case(
        "torch-export",
        "torch-export-guards-code",
        "model.pt2",
        ("torch",),
        _EXPORT,
        "import torch\ntorch.export.load(P).module()(torch.zeros(1, 2))",
    ),
]
# Round 22a F8: `git archive` (GitHub's zipballs, torch.hub) fills an export-subst file's
# `$Format:%B$` with the commit message; F15: a symlink is the file of its target text in a
# zipball Python extracts (and in a core.symlinks=false clone).
_GIT_REPO = """
import os, subprocess
def git(*a):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *a], check=True)
"""
_PROTO0 = 'TEXT = "c__builtin__\\nexec\\n(V" + CODE + "\\ntR."\n'
_EXPORT_SUBST = (
    _GIT_REPO
    + _PROTO0
    + """
open(P, "w").write("$Format:%B$")
open(".gitattributes", "w").write("*.pkl export-subst\\n")
git("init", "-q"); git("add", "-A"); git("commit", "-q", "--cleanup=verbatim", "-m", TEXT)
"""
)
_LINK_TEXT = (
    _GIT_REPO
    + _PROTO0
    + """
os.symlink(TEXT, P)
git("init", "-q"); git("add", "-A"); git("commit", "-q", "-m", "x")
"""
)
_FROM_ZIPBALL = """
import os, pickle, subprocess, zipfile
repo = os.path.dirname(P)
subprocess.run(["git", "-C", repo, "archive", "--format=zip", "-o", "ball.zip", "HEAD"])
zipfile.ZipFile(os.path.join(repo, "ball.zip")).extractall("x")
pickle.load(open(os.path.join("x", os.path.basename(P)), "rb"))
"""
CASES += [
    Case(
        "pickle",
        "pickle-export-subst-in-git-archive",
        "model.pkl",
        (),
        _EXPORT_SUBST,
        _FROM_ZIPBALL,
        gate="import shutil\nassert shutil.which('git'), 'git is not installed'",
    ),
    Case(
        "pickle",
        "pickle-symlink-target-text-in-zipball",
        "model.pkl",
        (),
        _LINK_TEXT,
        _FROM_ZIPBALL,
        gate="import shutil\nassert shutil.which('git'), 'git is not installed'",
    ),
]
COVERED = {"keras-load-unsafe": "keras-lambda (safe_mode=False loads the same Lambda configs)"}
# Loaders of another repository's code, no file of this tree: the call is the finding
# (tests/hostile/test_round19_links_remote.py runs torch.hub on a folder beside the tree).
ELSEWHERE = {
    "torch-hub": "hubconf.py of the repository the call names",
    "torch-hub-url": "the checkpoint at the address the call names",
}

_PRELUDE = """
import os, sys, warnings
warnings.simplefilter("ignore")
P, MARK = sys.argv[1], sys.argv[2]
CODE = "__import__('builtins').open(%r, 'w').write('ran')" % MARK  # shelve has its own open
"""


def _child(
    code: str, cwd: Path, *args: str, timeout: int = 240
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    extra = os.environ.get("FORKVET_LOADER_PATH", "")
    if extra:
        env["PYTHONPATH"] = extra
    env["KERAS_BACKEND"] = env.get("KERAS_BACKEND", "torch")
    # numcodecs >= 0.15 asks for this; repositories pinning an older one never do
    env["NUMCODECS_ALLOW_UNSAFE_PICKLE_DECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-c", _PRELUDE + textwrap.dedent(code), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _missing(needs: tuple[str, ...], cwd: Path) -> str | None:
    for module in needs:
        if _child(f"import {module}", cwd, "", "", timeout=120).returncode:
            return module
    return None


def test_every_loader_in_the_table_has_a_case() -> None:
    ids = {lo.id for lo in dataformats.loaders()}
    assert ids == {c.loader for c in CASES} | set(COVERED) | set(ELSEWHERE)
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_whenever_the_loader_runs_the_payload_forkvet_reports_an_error(
    case: Case, tmp_path: Path
) -> None:
    repo, sandbox = tmp_path / "repo", tmp_path / "sandbox"
    repo.mkdir()
    sandbox.mkdir()
    missing = _missing(case.needs, sandbox)
    if missing:
        pytest.skip(f"{case.loader}: {missing} is not installed (FORKVET_LOADER_PATH adds one)")
    if case.gate:
        gate = _child(case.gate, sandbox, "", "", timeout=120)
        if gate.returncode:
            pytest.skip(f"{case.loader}: {gate.stderr.strip().splitlines()[-1][:200]}")
    target = repo / case.path
    target.parent.mkdir(parents=True, exist_ok=True)
    mark = sandbox / f"ran-{case.name}"
    built = _child(case.build, repo, str(target), str(mark))
    assert built.returncode == 0, built.stderr[-3000:]
    mark.unlink(missing_ok=True)  # Keras calls a Lambda layer while it builds the model
    loaded = _child(case.run, sandbox, str(target), str(mark))
    assert mark.exists(), f"the real loader did not run the payload:\n{loaded.stderr[-3000:]}"

    report = vet(load(repo))
    errors = {r.path or "" for r in report.risks if r.severity == "error"}
    hit = [p for p in errors if p == case.path or p.startswith((case.path + "/", case.path + "."))]
    assert hit, (case.name, sorted(errors), [(r.kind, r.path) for r in report.risks])


# -- the code scan, from the same table ------------------------------------------------------------
def _call(name: str, lo: dataformats.Loader) -> str:
    kws = {**{k: v for k, v in lo.only_if.items()}, **{k: not v for k, v in lo.unless.items()}}
    args = "".join(f", {k}={v!r}" for k, v in kws.items())
    return f"{name}(path{args})"


def _table_calls() -> list[tuple[str, str, dataformats.Loader]]:
    out = []
    for lo in dataformats.loaders():
        for name in lo.calls:
            out.append((name, name, lo))
        for name in lo.tails:
            out.append((name, f"obj.{name}", lo))
    return out


def test_every_call_the_table_names_is_flagged_parsed_or_not() -> None:
    import ast

    assert _table_calls()
    for _name, spelled, lo in _table_calls():
        line = f"x = {_call(spelled, lo)}\n"
        node = ast.parse(line).body[0].value  # type: ignore[attr-defined]
        found = getattr(risks, "_call_risk")(node)  # noqa: B009
        assert found is not None and found[0] == lo.kind, (line, found)
        # Python 2 (ast cannot read it): the same call by pattern
        by_text = risks.text_risks("print 'x'\n" + line)
        assert [r[0] for r in by_text] == [lo.kind], (line, by_text)
        if lo.unless:  # weights_only=True: fine
            safe = f"x = {spelled}(path, {', '.join(f'{k}={v!r}' for k, v in lo.unless.items())})\n"
            node = ast.parse(safe).body[0].value  # type: ignore[attr-defined]
            assert getattr(risks, "_call_risk")(node) is None, safe  # noqa: B009
            assert not risks.text_risks(safe), safe
        if lo.only_if:  # load_model(...) alone: fine
            plain = f"x = {spelled}(path)\n"
            node = ast.parse(plain).body[0].value  # type: ignore[attr-defined]
            assert getattr(risks, "_call_risk")(node) is None, plain  # noqa: B009


def test_the_loaders_round_16a_listed_are_flagged_in_code(vet_repo) -> None:  # type: ignore[no-untyped-def]
    calls = [
        'torch.load("m.pt", weights_only=False)',
        'pd.read_pickle("m.pkl")',
        'cloudpickle.load(open("m", "rb"))',
        'pickle.Unpickler(open("m", "rb")).load()',
        'shelve.open("cache")["x"]',
        'jsonpickle.decode(open("m.json").read())',
        'hickle.load("m.hkl")',
        'torch.package.PackageImporter("m.pt").load_pickle("model", "model.pkl")',
        'keras.saving.load_model("m.keras", safe_mode=False)',
        "keras.config.enable_unsafe_deserialization()",
    ]
    head = "import pickle, torch, cloudpickle, pandas as pd, shelve, jsonpickle, hickle, keras\n"
    files = {f"c{i}.py": f"{head}x = {c}\n" for i, c in enumerate(calls)}
    files["safe.py"] = (
        head + 'torch.load("m.pt", weights_only=True)\nkeras.saving.load_model("m.keras")\n'
    )
    report = vet_repo(files)
    flagged = {r.path for r in report.risks if r.line == 2}
    assert flagged >= set(files) - {"safe.py"}
    assert "safe.py" not in {r.path for r in report.risks}


def test_the_table_is_well_formed() -> None:
    raw = json.loads(resources.files("forkvet.data").joinpath("loaders.json").read_text("utf-8"))
    for entry in raw["loaders"]:
        assert {"id", "danger", "source", "files"} <= set(entry), entry.get("id")
        if entry.get("calls") or entry.get("tails"):
            assert entry["kind"] and entry["message"], entry["id"]
        if isinstance(entry["files"], dict):
            for rule in entry["files"].values():
                assert rule["verdict"] in ("code", "unverified"), entry["id"]


# -- weights files that name other files (round 22a F7, F9; forkvet/vet/weightrefs.py) ------------
# The real loader reads a file outside the tree (MARK, a secret beside the repository) into the
# model: forkvet must report an error for the weights file. A loader that refuses the reference
# (onnx >= 1.16 for `../`) skips its row, naming why.
_ONNX_EXT = """
import onnx
from onnx import TensorProto, helper
t = TensorProto(name="w", data_type=TensorProto.UINT8, dims=[6])
t.data_location = TensorProto.EXTERNAL
for k, v in (("location", REF), ("length", "6")):
    e = t.external_data.add(); e.key, e.value = k, v
out = helper.make_tensor_value_info("w", TensorProto.UINT8, [6])
g = helper.make_graph([], "g", [], [out], [t])
onnx.save(helper.make_model(g), P)
"""
_H5_EXT = """
import h5py, numpy as np
with h5py.File(P, "w") as f:
    KIND
"""
REFS = [
    ("onnx-external-data-dotdot", "model.onnx", ("onnx",), _ONNX_EXT, "import onnx\n"
     "print(bytes(onnx.load(P).graph.initializer[0].raw_data))"),
    ("h5py-external-storage", "weights.h5", ("h5py",), _H5_EXT.replace(
        "KIND", 'f.create_dataset("k", shape=(6,), dtype="u1", external=[(MARK, 0, 6)])'),
     "import h5py\nprint(bytes(h5py.File(P)['k'][()]))"),
    ("h5py-external-link", "weights.h5", ("h5py",), _H5_EXT.replace(
        "KIND", 'f["k"] = h5py.ExternalLink(MARK + ".h5", "/s")'),
     "import h5py\nprint(bytes(h5py.File(P)['k'][()]))"),
    ("h5py-virtual-dataset", "weights.h5", ("h5py",), _H5_EXT.replace(
        "KIND", 'lay = h5py.VirtualLayout((6,), "u1")\n    '
        'lay[:] = h5py.VirtualSource(MARK + ".h5", "s", shape=(6,))\n    '
        'f.create_virtual_dataset("k", lay)'),
     "import h5py\nprint(bytes(h5py.File(P)['k'][()]))"),
]  # fmt: skip


@pytest.mark.parametrize("row", REFS, ids=[r[0] for r in REFS])
def test_whenever_the_loader_reads_a_file_outside_the_tree_forkvet_reports_an_error(
    row: tuple[str, str, tuple[str, ...], str, str], tmp_path: Path
) -> None:
    name, path, needs, build, run = row
    repo, sandbox = tmp_path / "repo", tmp_path / "sandbox"
    repo.mkdir()
    sandbox.mkdir()
    missing = _missing(needs, sandbox)
    if missing:
        pytest.skip(f"{name}: {missing} is not installed (FORKVET_LOADER_PATH adds one)")
    secret = tmp_path / "secret"
    secret.write_bytes(b"SECRET")
    if "h5py" in needs:
        made = "import h5py\nh5py.File(MARK + '.h5', 'w')['s'] = bytearray(b'SECRET')"
        assert _child(made, sandbox, "", str(secret)).returncode == 0
    (repo / "d").mkdir()  # onnx 1.15 strips a leading "../" but not one after a folder
    ref = f"REF = {'d/../' + os.path.relpath(secret, repo)!r}\n"
    built = _child(ref + build, repo, str(repo / path), str(secret))
    assert built.returncode == 0, built.stderr[-3000:]
    loaded = _child(run, repo, str(repo / path), str(secret))
    if "SECRET" not in loaded.stdout:
        pytest.skip(f"{name}: the installed loader refuses it: {loaded.stderr.strip()[-200:]}")
    report = vet(load(repo))
    assert [r for r in report.risks if r.severity == "error" and r.path == path], report.risks
