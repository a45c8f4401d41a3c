using System.Text;

namespace QuantBuild.Cli.Tests.Fuzz;

/// <summary>
/// One fuzzed `quantbuild run`: a valid project (the Fashion-MNIST sample cut to 64 calibration and 300 evaluation
/// images) with one to three hostile edits: a setting set to a value at or past its limits, a data file or the model
/// with bytes changed, or an output folder that already holds something in the way. The same index always gives
/// the same edits, so a failing case is reproduced by its number alone.
/// </summary>
internal sealed class RunCase
{
    // Each setting's first value is the valid default; the others are what a hostile or careless yaml holds.
    private static readonly (string Key, string[] Values)[] Settings =
    [
        ("model", ["model.onnx", "missing.onnx", "data", "/dev/zero", "data/eval_labels.npy", "model-link.onnx", "\"model\\0.onnx\""]),
        ("output", ["out", "model.onnx", "out/../out", "\"\"", "data/calibration.npy", "out/deeper/still"]),
        ("calibration.data", ["data/calibration.npy", "data/eval_images.npy", "data/nan.npy", "data/all-nan.npy", "data/empty.npy", "data/short.npy",
            "data/small-images.npy", "data/int32.npy", "data/fifo.npy", "/dev/zero", "data/zero-link.npy", "data", "data/missing.npy", "../outside/canary.npy"]),
        ("calibration.method", ["minmax", "percentile", "entropy", "mse", "median", "7"]),
        ("calibration.samples", ["64", "1", "0", "-3", "100000000", "1e12", "many"]),
        ("calibration.batch_size", ["16", "1", "0", "1000000", "-1", "2.5"]),
        ("calibration.percentile", ["", "99.9", "100", "150", ".nan", "0"]),
        ("evaluation.data", ["data/eval_images.npy", "data/calibration.npy", "data/all-nan.npy", "data/empty.npy", "data/small-images.npy", "/dev/zero",
            "data/fifo.npy", "data/inf.npy"]),
        ("evaluation.labels", ["data/eval_labels.npy", "data/labels-out-of-range.npy", "data/labels-float.npy", "data/labels-short.npy", "data/eval_images.npy",
            "/proc/self/mem", "data/empty.npy"]),
        ("evaluation.metric", ["top1", "top5", "agreement", "cosine", "sqnr", "max_abs_error", "ctc_exact_line", "accuracy"]),
        ("evaluation.batch_size", ["100", "1", "0", "1000000", "-4"]),
        ("gate", ["max_drop: 2", "max_drop: 0", "max_drop: -1", "max_drop: .nan", "max_drop: 1e308", "min: 50", "min: 101", "min: 0.5", "max_drop: \"200%\"", "{}"]),
        ("a.name", ["x64", "arm", "quantbuild-report", new string('n', 250), "a/b", "..", "rejected", "ünï"]),
        ("a.device", ["cpu-x64-vnni", "cpu-arm64", "cpu-x64-avx2", "gpu", "\"\""]),
        ("a.extra", ["", "output: model.a.onnx", "output: quantbuild-report.md", "output: ../../outside/x.onnx", "output: /tmp/x.onnx", "output: model.onnx",
            "weights: {bits: 4, granularity: block, block_size: 32}", "weights: {bits: 3}", "weights: {bits: 4, granularity: block, block_size: 0}",
            "weights: {granularity: per-tensor}", "exclude: {op_types: [Conv]}", "exclude: {nodes: [nothing-by-this-name]}",
            "fallback: auto", "require_speedup: true", "gate: {max_drop: 0}",
            "recipe: [{pass: smoothquant, alpha: 0.5}]", "recipe: [{pass: smoothquant, alpha: 7}]", "recipe: [{pass: no-such-pass}]",
            "recipe: [{pass: smoothquant, timeout_seconds: 1e12}]", "recipe: [{pass: nupes}]"]),
        ("b.name", ["arm", "x64", "b", new string('m', 181)]),
        ("b.device", ["cpu-arm64", "cpu-x64-vnni", "bogus"]),
        ("b.extra", ["", "output: model.arm.onnx", "output: model.x64.onnx", "output: rejected", "output: model.a.onnx.manifest.json", "weights: {bits: 8}"]),
    ];

    private readonly Dictionary<string, string> _values = Settings.ToDictionary(s => s.Key, s => s.Values[0]);

    /// <summary>The case of this index; a negative index is the valid project with no edits.</summary>
    public RunCase(int index)
    {
        Index = index;
        if (index < 0)
        {
            // The valid project itself, which the campaign first checks passes.
            return;
        }

        var random = new Random(index);
        int edits = 1 + random.Next(3);
        for (int e = 0; e < edits; e++)
        {
            int kind = random.Next(10);
            if (kind < 7)
            {
                (string key, string[] values) = Settings[random.Next(Settings.Length)];
                _values[key] = values[1 + random.Next(values.Length - 1)];
                Edits.Add($"{key} = {_values[key]}");
            }
            else if (kind == 7)
            {
                DataMutation = ("data/" + new[] { "calibration.npy", "eval_images.npy", "eval_labels.npy" }[random.Next(3)], random.Next());
                Edits.Add($"bytes of {DataMutation.Value.File} (seed {DataMutation.Value.Seed})");
            }
            else if (kind == 8)
            {
                ModelMutation = random.Next();
                Edits.Add($"bytes of model.onnx (seed {ModelMutation})");
            }
            else
            {
                OutputHazard = (Hazard)random.Next(4);
                Edits.Add($"output hazard {OutputHazard}");
            }
        }
    }

    /// <summary>What lies in the output folder's way before the run.</summary>
    public enum Hazard
    {
        /// <summary>The output folder is a file.</summary>
        OutputIsFile,

        /// <summary>A target's model path is a folder.</summary>
        ModelPathIsFolder,

        /// <summary>A target's model path is a symlink to a file outside every folder the user named.</summary>
        ModelPathLinksOutside,

        /// <summary>A stale temp file and a half-written model from a killed run.</summary>
        KilledRunLeftovers,
    }

    public int Index { get; }

    public List<string> Edits { get; } = new();

    public (string File, int Seed)? DataMutation { get; }

    public int? ModelMutation { get; }

    public Hazard? OutputHazard { get; }

    public string OutputFolder => _values["output"];

    public string Yaml()
    {
        var text = new StringBuilder();
        text.Append("model: ").Append(_values["model"]).Append('\n');
        text.Append("output: ").Append(_values["output"]).Append('\n');
        text.Append("calibration:\n");
        text.Append("  data: ").Append(_values["calibration.data"]).Append('\n');
        text.Append("  method: ").Append(_values["calibration.method"]).Append('\n');
        text.Append("  samples: ").Append(_values["calibration.samples"]).Append('\n');
        text.Append("  batch_size: ").Append(_values["calibration.batch_size"]).Append('\n');
        if (_values["calibration.percentile"].Length > 0)
        {
            text.Append("  percentile: ").Append(_values["calibration.percentile"]).Append('\n');
        }

        text.Append("evaluation:\n");
        text.Append("  data: ").Append(_values["evaluation.data"]).Append('\n');
        text.Append("  labels: ").Append(_values["evaluation.labels"]).Append('\n');
        text.Append("  metric: ").Append(_values["evaluation.metric"]).Append('\n');
        text.Append("  batch_size: ").Append(_values["evaluation.batch_size"]).Append('\n');
        text.Append("gate: ").Append(_values["gate"].StartsWith('{') ? _values["gate"] : "{" + _values["gate"] + "}").Append('\n');
        text.Append("targets:\n");
        foreach (string t in new[] { "a", "b" })
        {
            text.Append("  \"").Append(_values[t + ".name"]).Append("\":\n");
            text.Append("    device: ").Append(_values[t + ".device"]).Append('\n');
            if (_values[t + ".extra"].Length > 0)
            {
                text.Append("    ").Append(_values[t + ".extra"]).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>Changes one to four bytes of a file: bit flips, a byte set, a cut end, or a run copied elsewhere.</summary>
    public static void MutateBytes(string path, int seed)
    {
        var random = new Random(seed);
        byte[] bytes = File.ReadAllBytes(path);
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits && bytes.Length > 0; e++)
        {
            // Headers and graph structure sit in the first bytes; weights and samples fill the rest.
            int at = random.Next(2) == 0 ? random.Next(Math.Min(bytes.Length, 256)) : random.Next(bytes.Length);
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = 0xFF;
                    break;
                case 2:
                    Array.Resize(ref bytes, at);
                    break;
                default:
                    int from = random.Next(bytes.Length);
                    int length = Math.Min(64, Math.Min(bytes.Length - from, bytes.Length - at));
                    Array.Copy(bytes, from, bytes, at, length);
                    break;
            }
        }

        File.WriteAllBytes(path, bytes);
    }
}
