namespace QuantBuild.Engine.Config;

/// <summary>The names of the files that ship beside a quantized model.</summary>
public static class ModelFiles
{
    /// <summary>The manifest's path for a model written to <paramref name="modelPath"/>.</summary>
    public static string ManifestFor(string modelPath) => Path.ChangeExtension(modelPath, null) + ".manifest.json";
}
