namespace QuantBuild.Cli.Tests;

/// <summary>A temp folder with a quantize.yaml over the bundled sample's model and data, deleted after the test.</summary>
internal sealed class SampleWorkspace : IDisposable
{
    public SampleWorkspace(string targetsYaml, string gateYaml = "gate:\n  max_drop: 0.5\n", string method = "minmax", string? extra = null)
    {
        Root = Path.Combine(Path.GetTempPath(), "quantbuild-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        string sample = Path.Combine(RepoPaths.Root, "samples", "fashion-mnist");
        ConfigPath = Path.Combine(Root, "quantize.yaml");
        File.WriteAllText(ConfigPath,
            $"model: {Path.Combine(sample, "model.onnx")}\n" +
            "output: out\n" +
            "calibration:\n" +
            $"  data: {Path.Combine(sample, "data", "calibration.npy")}\n" +
            $"  method: {method}\n" +
            "evaluation:\n" +
            $"  data: {Path.Combine(sample, "data", "eval_images.npy")}\n" +
            $"  labels: {Path.Combine(sample, "data", "eval_labels.npy")}\n" +
            "  metric: top1\n" +
            "  batch_size: 250\n" +
            gateYaml +
            (extra ?? string.Empty) +
            "targets:\n" + targetsYaml);
    }

    public string Root { get; }

    public string ConfigPath { get; }

    public string Output => Path.Combine(Root, "out");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
