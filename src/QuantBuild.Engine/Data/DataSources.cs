using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Plugins;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Data;

/// <summary>Opens the data a quantize.yaml names, matched to the model's inputs.</summary>
public static class DataSources
{
    /// <summary>
    /// Opens <paramref name="config"/> for <paramref name="model"/>'s data inputs (<paramref name="modelInputs"/>); a plugin's
    /// reader comes from <paramref name="plugins"/>, with relative paths in its options resolved from <paramref name="configDirectory"/>.
    /// </summary>
    public static IDataSource Open(DataSourceConfig config, IReadOnlyList<string> modelInputs, OnnxModel model, PluginHost? plugins, string configDirectory)
    {
        if (config.Kind != DataSourceKind.Reader)
        {
            return Open(config, modelInputs);
        }

        var wanted = new HashSet<string>(modelInputs, StringComparer.Ordinal);
        return PluginExtensions.OpenData(plugins, config, Batcher.ModelInputs(model).Where(i => wanted.Contains(i.Name)).ToList(), configDirectory);
    }

    /// <summary>Opens <paramref name="config"/> (any kind but a plugin's reader) as a source whose names are <paramref name="modelInputs"/>.</summary>
    public static IDataSource Open(DataSourceConfig config, IReadOnlyList<string> modelInputs)
    {
        switch (config.Kind)
        {
            case DataSourceKind.Npy:
                if (modelInputs.Count != 1)
                {
                    throw DataSourceErrors.NeedsNamedInputs(config.Path!, modelInputs);
                }

                return NpyDataSource.Single(modelInputs[0], config.Path!);

            case DataSourceKind.PerInput:
                var named = new List<KeyValuePair<string, string>>();
                foreach (string input in modelInputs)
                {
                    if (!config.Inputs.TryGetValue(input, out string? path))
                    {
                        throw DataSourceErrors.MissingInput("the data map", input, config.Inputs.Keys);
                    }

                    named.Add(KeyValuePair.Create(input, path));
                }

                return new NpyDataSource(named);

            case DataSourceKind.Npz:
                return OpenNpz(config.Path!, modelInputs);

            case DataSourceKind.TensorProtoDirectory:
                return OpenTensorProtoDirectory(config.Path!, modelInputs);

            default:
                throw new ArgumentOutOfRangeException(nameof(config));
        }
    }

    /// <summary>Opens a labels .npy as a source with the one name <c>labels</c>.</summary>
    public static IDataSource OpenLabels(string path) => NpyDataSource.Single("labels", path);

    private static IDataSource OpenNpz(string path, IReadOnlyList<string> modelInputs)
    {
        using NpzReader npz = NpzReader.Open(path);
        var tensors = new List<(string, DenseTensor)>();
        foreach (string input in modelInputs)
        {
            if (!npz.Contains(input))
            {
                // A single-input model may take an npz holding one array under any name (numpy.savez names it arr_0).
                if (modelInputs.Count == 1 && npz.ArrayNames.Count == 1)
                {
                    tensors.Add((input, npz.Read(npz.ArrayNames[0])));
                    continue;
                }

                throw DataSourceErrors.MissingInput(path, input, npz.ArrayNames);
            }

            tensors.Add((input, npz.Read(input)));
        }

        return new InMemoryDataSource(path, tensors);
    }

    private static IDataSource OpenTensorProtoDirectory(string path, IReadOnlyList<string> modelInputs)
    {
        // ONNX's test data layout: test_data_set_N/input_K.pb, K in model input order (the tensor's own name wins when set).
        string realRoot = InputFile.TryRealPath(path) ?? path;
        string[] sets = Directory.GetDirectories(path, "test_data_set_*")
            .OrderBy(d => int.TryParse(Path.GetFileName(d)["test_data_set_".Length..], out int n) ? n : int.MaxValue)
            .ThenBy(d => d, StringComparer.Ordinal)
            .ToArray();
        var perInput = modelInputs.ToDictionary(i => i, _ => new List<DenseTensor>(), StringComparer.Ordinal);
        foreach (string set in sets)
        {
            string[] files = Directory.GetFiles(set, "input_*.pb")
                .OrderBy(f => int.TryParse(Path.GetFileNameWithoutExtension(f)["input_".Length..], out int n) ? n : int.MaxValue)
                .ToArray();
            for (int k = 0; k < files.Length; k++)
            {
                // A link in the folder the user named must not lead out of it (the same rule as external data).
                if (!InputFile.IsInside(InputFile.TryRealPath(files[k]) ?? files[k], realRoot))
                {
                    throw DataFileErrors.OutsideFolder(files[k], path);
                }

                var value = OnnxTensorFile.LoadValue(files[k]);
                string name = !string.IsNullOrEmpty(value.Name) && perInput.ContainsKey(value.Name) ? value.Name
                    : k < modelInputs.Count ? modelInputs[k]
                    : throw DataSourceErrors.MissingInput(set, $"#{k}", modelInputs);
                DenseTensor dense = value.ToDense();
                List<DenseTensor> earlier = perInput[name];
                if (dense.Rank == 0)
                {
                    throw DataFileErrors.NoRows(new DataFileLocation(files[k], null));
                }

                if (earlier.Count > 0 && (earlier[0].ElementType != dense.ElementType || !earlier[0].Shape[1..].SequenceEqual(dense.Shape[1..])))
                {
                    throw DataSourceErrors.ShapeMismatch(
                        files[k], name, $"{dense.ElementType} [{string.Join(", ", dense.Shape.ToArray())}]",
                        $"{earlier[0].ElementType} [*, {string.Join(", ", earlier[0].Shape[1..].ToArray())}] like the first set's");
                }

                earlier.Add(dense);
            }
        }

        if (sets.Length == 0 || perInput.Values.All(v => v.Count == 0))
        {
            throw DataSourceErrors.EmptyDirectory(path);
        }

        var tensors = new List<(string, DenseTensor)>();
        foreach (string input in modelInputs)
        {
            if (perInput[input].Count == 0)
            {
                throw DataSourceErrors.MissingInput(path, input, perInput.Where(p => p.Value.Count > 0).Select(p => p.Key));
            }

            tensors.Add((input, TensorRows.Concat(perInput[input])));
        }

        return new InMemoryDataSource(path, tensors);
    }
}
