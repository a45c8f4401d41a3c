using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Tests.Config;

/// <summary>A temporary folder holding a quantize.yaml and the files it names (contents don't matter to the loader).</summary>
internal sealed class ConfigFolder : IDisposable
{
    public ConfigFolder()
    {
        Root = Path.Combine(Path.GetTempPath(), "qb-config-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Touch("model.onnx", "data/calibration.npy", "data/eval_images.npy", "data/eval_labels.npy");
    }

    public string Root { get; }

    public string YamlPath => Path.Combine(Root, "quantize.yaml");

    public string P(string relative) => Path.GetFullPath(Path.Combine(Root, relative));

    public void Touch(params string[] relatives)
    {
        foreach (string r in relatives)
        {
            string full = P(r);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, new byte[] { 0 });
        }
    }

    public QuantizeConfig Load(string yaml, ConfigValidationOptions? options = null)
    {
        File.WriteAllText(YamlPath, yaml.ReplaceLineEndings("\n"));
        return QuantizeConfigLoader.Load(YamlPath, options);
    }

    public IReadOnlyList<QuantBuildException> Errors(string yaml, ConfigValidationOptions? options = null)
    {
        ConfigValidationException e = Assert.Throws<ConfigValidationException>(() => Load(yaml, options));
        return e.Errors;
    }

    public QuantBuildException SingleError(string yaml, ConfigValidationOptions? options = null)
    {
        IReadOnlyList<QuantBuildException> errors = Errors(yaml, options);
        Assert.True(errors.Count == 1, "expected one error, got:\n" + string.Join("\n", errors.Select(e => e.ToDiagnosticString())));
        return errors[0];
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; don't fail a test over it.
        }
    }
}
