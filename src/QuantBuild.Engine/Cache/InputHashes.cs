using System.Security.Cryptography;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Config;
using QuantBuild.Onnx.Preserved;

namespace QuantBuild.Engine.Cache;

/// <summary>SHA-256 of every file a run reads: the model (with its external data) and each data file, by role.</summary>
/// <param name="Model">Hash over the model file and its external data files, in a fixed order.</param>
/// <param name="ModelFile">Hash of the model file alone, as manifests record it.</param>
/// <param name="Files">Role (calibration, evaluation, labels, with the input name where there is one) to hash, sorted by role.</param>
public sealed record InputHashes(string Model, string ModelFile, IReadOnlyList<KeyValuePair<string, string>> Files)
{
    /// <summary>Hashes the inputs of <paramref name="config"/>; <paramref name="model"/> names the external data files.</summary>
    public static InputHashes Compute(QuantizeConfig config, Graph model)
    {
        string modelFile = HashFile(config.ModelPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(config.ModelPath))!;
        var parts = new List<string> { modelFile };
        foreach (string location in ExternalDataLocations(model))
        {
            string path = Path.Combine(folder, location);
            parts.Add(location + "=" + (File.Exists(path) ? HashFile(path) : "missing"));
        }

        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        AddSource(files, "calibration", config.Calibration.Data);
        if (config.Evaluation is { } evaluation)
        {
            AddSource(files, "evaluation", evaluation.Data);
            if (evaluation.LabelsPath is { } labels)
            {
                files["labels"] = HashPath(labels);
            }

            if (evaluation.DictionaryPath is { } dictionary)
            {
                files["dictionary"] = HashPath(dictionary);
            }
        }

        string combined = CacheKey.Hex(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", parts))));
        return new InputHashes(combined, modelFile, files.ToList());
    }

    private static void AddSource(SortedDictionary<string, string> files, string role, DataSourceConfig source)
    {
        files[role + ".kind"] = source.Kind.ToString();
        if (source.Path is { } path)
        {
            files[role] = HashPath(path);
        }

        foreach ((string input, string inputPath) in source.Inputs)
        {
            files[$"{role}[{input}]"] = HashPath(inputPath);
        }
    }

    // A folder (an ONNX test-set directory) hashes as its relative file names and their hashes.
    private static string HashPath(string path)
    {
        if (File.Exists(path))
        {
            return HashFile(path);
        }

        if (!Directory.Exists(path))
        {
            return "missing";
        }

        var lines = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(path, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .Select(relative => relative + "=" + HashFile(Path.Combine(path, relative)));
        return CacheKey.Hex(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", lines))));
    }

    /// <summary>The side files the main graph's initializers keep their data in, each once, in ordinal order.</summary>
    public static IEnumerable<string> ExternalDataLocations(Graph graph) =>
        graph.Initializers.Select(OnnxTensorFields.ExternalDataOf).OfType<ExternalDataReference>().Select(e => e.Location)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);

    /// <summary>SHA-256 of a file, streamed.</summary>
    public static string HashFile(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return CacheKey.Hex(SHA256.HashData(stream));
    }
}
