using System.Text;
using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Config;

/// <summary>
/// Writes the commented starter quantize.yaml for <c>quantbuild init --model m.onnx</c>. It guesses what is cheap
/// to guess — data files lying beside the model, one data line per input for multi-input models, a label metric
/// only when labels were found — and explains every key so the file doubles as a first reference.
/// </summary>
public static class StarterConfig
{
    /// <summary>
    /// Writes the starter yaml to <paramref name="yamlPath"/> (default: quantize.yaml beside the model) and returns its path.
    /// </summary>
    /// <param name="modelPath">The fp32 model.</param>
    /// <param name="yamlPath">Where to write, or null for quantize.yaml in the model's folder.</param>
    /// <param name="inputNames">The model's input names (from the model loader), or null when unknown.</param>
    /// <param name="schemaLocation">Where editors find docs/quantize.schema.json (a URL, or a path relative to the yaml), or null for no modeline.</param>
    /// <param name="overwrite">Replace an existing file instead of refusing.</param>
    /// <exception cref="QuantBuildException">QB1018 when the file exists and <paramref name="overwrite"/> is false.</exception>
    public static string Write(string modelPath, string? yamlPath = null, IReadOnlyList<string>? inputNames = null, string? schemaLocation = null, bool overwrite = false)
    {
        string model = Path.GetFullPath(modelPath);
        string yaml = Path.GetFullPath(yamlPath ?? Path.Combine(Path.GetDirectoryName(model)!, QuantizeConfigLoader.DefaultFileName));
        if (File.Exists(yaml) && !overwrite)
        {
            throw new QuantBuildException(ConfigErrorCodes.StarterExists, $"{yaml} already exists",
                "edit the existing file, pass another path, or use --force to replace it", yaml);
        }

        string text = Create(model, yaml, inputNames, schemaLocation);
        Directory.CreateDirectory(Path.GetDirectoryName(yaml)!);
        // Written beside the target and renamed, so an interrupted init never leaves half a config behind.
        string temp = yaml + ".tmp";
        File.WriteAllText(temp, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.Move(temp, yaml, overwrite: true);
        return yaml;
    }

    /// <summary>The starter yaml text for <paramref name="modelPath"/>, with paths relative to <paramref name="yamlPath"/>'s folder.</summary>
    public static string Create(string modelPath, string yamlPath, IReadOnlyList<string>? inputNames = null, string? schemaLocation = null)
    {
        string baseDir = Path.GetDirectoryName(Path.GetFullPath(yamlPath))!;
        string modelDir = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        List<string> candidates = DataFiles(modelDir);
        string? calibration = Pick(candidates, "calib") ?? Pick(candidates, "train");
        string? labels = Pick(candidates, "label");
        string? eval = candidates.FirstOrDefault(f => f != calibration && f != labels && (Has(f, "eval") || Has(f, "test") || Has(f, "val")));

        string Rel(string path) => Path.GetRelativePath(baseDir, path).Replace('\\', '/');
        string Guess(string? found, string fallback) => found is null ? Rel(Path.Combine(modelDir, fallback)) : Rel(found);

        var sb = new StringBuilder();
        void L(string line = "") => sb.Append(line).Append('\n');

        if (schemaLocation is not null)
        {
            // The YAML language server reads this line to complete keys and flag mistakes while typing.
            L($"# yaml-language-server: $schema={schemaLocation}");
        }

        L("# QuantBuild config: turns the fp32 model into one quantized model per target, and checks accuracy.");
        L("# Reference: docs/configuration.md. Relative paths are resolved from this file's folder.");
        L();
        L($"model: {Quote(Rel(modelPath))}");
        L("output: quantized                 # folder for the quantized models, manifests and report");
        L();
        L("calibration:");
        L("  # Representative inputs (a few hundred samples is plenty): a .npy for a one-input model, a .npz whose");
        L("  # member names are the input names, a folder of test_data_set_N/input_K.pb, or one .npy per input.");
        WriteData(L, Guess(calibration, "data/calibration.npy"), inputNames, "calibration");
        L("  method: minmax                  # minmax | percentile | entropy | mse");
        L("  # samples: 256                  # use at most this many samples (default: all)");
        L("  batch_size: 32");
        L();
        L("evaluation:");
        L("  # Held-out inputs; the fp32 and the quantized model both run on them.");
        WriteData(L, Guess(eval, "data/eval.npy"), inputNames, "eval");
        if (labels is not null)
        {
            L($"  labels: {Quote(Rel(labels))}   # integer class per sample");
            L("  metric: top1                    # top1 | top5 | topk (with k:) | agreement | cosine | sqnr | max_abs_error");
        }
        else
        {
            L("  # labels: data/labels.npy       # integer class per sample; needed by top1, top5 and topk");
            L("  metric: agreement               # label-free: how often the quantized top-1 matches fp32's (percent)");
        }

        L("  # output: logits                # the model output the metric reads (default: the first)");
        L("  batch_size: 32");
        L();
        L("gate:");
        L("  max_drop: 1.0                   # fail when the metric drops more than 1 point below fp32 (or \"1%\" relative)");
        L("  # min: 85                       # and/or when it falls under this absolute floor");
        L();
        L("targets:");
        L("  x64:");
        L("    device: cpu-x64-vnni           # cpu-x64-vnni | cpu-x64-avx2 (no VNNI: 7-bit weights) | cpu-arm64");
        L("    recipe: []                     # passes run before int8 encoding, e.g. - pass: smoothquant");
        L("    # weights: {bits: 8, granularity: per-channel}");
        L("    # exclude: {nodes: [], op_types: []}   # keep these in fp32");
        L("  arm64:");
        L("    device: cpu-arm64");
        return sb.ToString();
    }

    private static void WriteData(Action<string> line, string path, IReadOnlyList<string>? inputNames, string section)
    {
        bool archive = path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase);
        if (inputNames is { Count: > 1 } && !archive)
        {
            line("  data:                           # one .npy per model input");
            string dir = Path.GetDirectoryName(path)?.Replace('\\', '/') is { Length: > 0 } d ? d + "/" : string.Empty;
            foreach (string input in inputNames)
            {
                line($"    {Quote(input)}: {Quote($"{dir}{section}_{Sanitize(input)}.npy")}");
            }
        }
        else
        {
            line($"  data: {Quote(path)}");
        }
    }

    private static List<string> DataFiles(string modelDir)
    {
        var found = new List<string>();
        foreach (string dir in new[] { modelDir, Path.Combine(modelDir, "data") })
        {
            if (Directory.Exists(dir))
            {
                found.AddRange(Directory.EnumerateFiles(dir, "*.np?").Where(f => f.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal));
            }
        }

        return found;
    }

    private static string? Pick(List<string> files, string word) => files.FirstOrDefault(f => Has(f, word));

    private static bool Has(string path, string word) => Path.GetFileNameWithoutExtension(path).Contains(word, StringComparison.OrdinalIgnoreCase);

    private static string Sanitize(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '_' or '-' ? c : '_'));

    // Plain yaml when safe, otherwise a double-quoted scalar, so odd input names or paths never break the file.
    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or '/') && !char.IsDigit(s[0]) && s[0] != '-'
            ? s
            : "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
