using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Config;

/// <summary>
/// Turns a quantize.yaml into a frozen <see cref="QuantizeConfig"/>: parse (keeping every position) → validate
/// everything → either the typed config or one <see cref="ConfigValidationException"/> listing every error.
/// </summary>
public static class QuantizeConfigLoader
{
    /// <summary>The file name <c>quantbuild run</c> looks for when none is given.</summary>
    public const string DefaultFileName = "quantize.yaml";

    /// <summary>Loads and validates the yaml file at <paramref name="path"/>.</summary>
    /// <exception cref="ConfigValidationException">The file is missing, malformed or invalid; every error is listed.</exception>
    public static QuantizeConfig Load(string path, ConfigValidationOptions? options = null)
    {
        string full = Path.GetFullPath(path.Replace("\0", "\\0", StringComparison.Ordinal));
        string text;
        try
        {
            // /dev/zero or a FIFO given as the config would hang the read; a huge file would fill memory first.
            if (InputFile.Problem(full, out _) is { } problem && File.Exists(full))
            {
                throw new ConfigValidationException(new[]
                {
                    new QuantBuildException(ConfigErrorCodes.NotAFile, $"cannot read config file {full}: {problem}",
                        "pass the path of a regular quantize.yaml with -c", full),
                });
            }

            if (File.Exists(full) && new FileInfo(full).Length > YamlConfigReader.MaxChars * 4L)
            {
                throw new ConfigValidationException(new[]
                {
                    new QuantBuildException(ConfigErrorCodes.TooLarge, $"config file {full} is {new FileInfo(full).Length} bytes, far more than a quantize.yaml holds",
                        "pass the path of the quantize.yaml itself with -c", full),
                });
            }

            text = File.ReadAllText(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigValidationException(new[]
            {
                new QuantBuildException(
                    ConfigErrorCodes.ConfigNotFound,
                    e is FileNotFoundException or DirectoryNotFoundException ? $"config file not found: {full}" : $"cannot read config file {full}: {e.Message}",
                    "pass the path of an existing quantize.yaml with -c, or create one with 'quantbuild init --model <model.onnx>'",
                    full, inner: e),
            });
        }

        return Parse(text, full, options);
    }

    /// <summary>
    /// Validates yaml <paramref name="text"/> as if read from <paramref name="path"/> (relative paths resolve from its folder).
    /// </summary>
    /// <exception cref="ConfigValidationException">The text is malformed or invalid; every error is listed.</exception>
    public static QuantizeConfig Parse(string text, string path, ConfigValidationOptions? options = null)
    {
        string full = Path.GetFullPath(path);
        ConfigNode? root;
        try
        {
            root = YamlConfigReader.Read(text, full);
        }
        catch (QuantBuildException e)
        {
            throw new ConfigValidationException(new[] { e });
        }

        var reader = new ConfigReader();
        QuantizeConfig? config = new QuantizeConfigBinder(reader, full, options ?? ConfigValidationOptions.Default).Bind(root);
        if (reader.Errors.Count > 0 || config is null)
        {
            List<QuantBuildException> ordered = reader.Errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList();
            throw new ConfigValidationException(ordered);
        }

        return config;
    }
}
