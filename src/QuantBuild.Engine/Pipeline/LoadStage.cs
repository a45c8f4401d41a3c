using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Plugins;
using QuantBuild.Onnx;
using Serilog;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// Loads the fp32 model (external data stays mapped in its files; inline weights move once into the run's scratch
/// file, so every session references one copy), checks the yaml's names against the model before anything runs, and
/// opens the data matched to its inputs.
/// </summary>
internal static class LoadStage
{
    public const string Name = "load";

    /// <summary>Code for an evaluation.output that names no output of the model.</summary>
    public const string UnknownOutputCode = "QB1305";

    // Tensors at least this large leave the loaded file's buffer for the run's mapped weights file.
    public const long InlineWeightThreshold = 1024;

    /// <param name="run">The validated run.</param>
    /// <param name="knownSha256">The model's hash when the cache already computed it (the file is not read twice).</param>
    /// <param name="plugins">The plugins whose data readers and metrics the config names, if any.</param>
    /// <param name="log">The run's log.</param>
    public static LoadedRun Run(ValidatedRun run, string? knownSha256, PluginHost? plugins, ILogger log)
    {
        QuantizeConfig config = run.Config;
        var workspace = RunWorkspace.Create(run.OutputDirectory);
        try
        {
            OnnxModel model = OnnxModelLoader.Load(config.ModelPath);
            CheckScoredOutput(config, model);
            RunData data = OpenData(config, model, plugins);
            try
            {
                if (!InputHashes.ExternalDataLocations(model.Graph).Any())
                {
                    OnnxModelSaver.Externalize(model, workspace.PathFor("fp32.weights"), InlineWeightThreshold);
                }

                string sha = knownSha256 ?? InputHashes.HashFile(config.ModelPath);
                long bytes = BytesOnDisk(config.ModelPath, model);
                log.Information("Loaded {Model} ({Bytes} bytes, sha256 {Sha}); memory budget {Budget}", config.ModelPath, bytes, sha[..12], run.Budget);
                return new LoadedRun(model, sha, bytes, data, workspace);
            }
            catch
            {
                data.Dispose();
                throw;
            }
        }
        catch
        {
            workspace.Dispose();
            throw;
        }
    }

    /// <summary>The output the gate scores must exist before the baseline runs for minutes to find out it does not.</summary>
    private static void CheckScoredOutput(QuantizeConfig config, OnnxModel model)
    {
        if (config.Evaluation is { Output: { } output } evaluation && model.Graph.Outputs.All(o => o.Name != output))
        {
            IEnumerable<string> outputs = model.Graph.Outputs.Select(o => o.Name);
            throw new QuantBuildException(UnknownOutputCode,
                $"evaluation.output '{output}' is not an output of {Path.GetFileName(config.ModelPath)}.{NameSuggester.DidYouMean(output, outputs)}",
                $"set evaluation.output to one of the model's outputs: {string.Join(", ", outputs)}",
                config.ConfigPath, evaluation.Location.Line, evaluation.Location.Column);
        }
    }

    private static RunData OpenData(QuantizeConfig config, OnnxModel model, PluginHost? plugins)
    {
        IReadOnlyList<string> inputNames = ConstantInputSource.DataInputs(model, config.Inputs);
        // Wrap checks the names `inputs:` binds (QB1303) and their shapes (QB1304) against the model.
        IDataSource calibration = ConstantInputSource.Wrap(DataSources.Open(config.Calibration.Data, inputNames, model, plugins, config.BaseDirectory), model, config.Inputs);
        IDataSource? evaluation = null;
        IDataSource? labels = null;
        try
        {
            evaluation = config.Evaluation is { } e ? ConstantInputSource.Wrap(DataSources.Open(e.Data, inputNames, model, plugins, config.BaseDirectory), model, config.Inputs) : null;
            labels = config.Evaluation?.LabelsPath is { } l ? DataSources.OpenLabels(l) : null;
            if (labels is not null && evaluation is not null && labels.SampleCount != evaluation.SampleCount)
            {
                // Counted here only for data the Validate stage could not count from .npy headers.
                throw new QuantBuildException("QB1250", $"{labels.Description} holds {labels.SampleCount} labels for {evaluation.SampleCount} evaluation samples.",
                    "write one label per evaluation sample, in the same order", labels.Description);
            }

            IMetric? metric = config.Evaluation is { } ev
                ? Metrics.Create(ev, plugins, config.BaseDirectory) ?? throw new QuantBuildException("QB4001", $"Unknown metric '{ev.Metric}'.", "use one of the metrics listed in docs/configuration.md")
                : null;
            return new RunData(calibration, evaluation, labels, metric, config.Evaluation?.Output ?? model.Graph.Outputs.FirstOrDefault()?.Name);
        }
        catch
        {
            calibration.Dispose();
            evaluation?.Dispose();
            labels?.Dispose();
            throw;
        }
    }

    private static long BytesOnDisk(string modelPath, OnnxModel model)
    {
        long bytes = new FileInfo(modelPath).Length;
        string folder = Path.GetDirectoryName(modelPath)!;
        foreach (string location in InputHashes.ExternalDataLocations(model.Graph))
        {
            string path = Path.Combine(folder, location);
            bytes += File.Exists(path) ? new FileInfo(path).Length : 0;
        }

        return bytes;
    }
}
