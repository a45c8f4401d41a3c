namespace QuantBuild.Engine.Config;

/// <summary>The QB10xx codes the config loader reports; docs/errors.md has a row for each.</summary>
public static class ConfigErrorCodes
{
    /// <summary>Several configuration errors, listed in the message (each keeps its own code).</summary>
    public const string Several = "QB1000";

    /// <summary>The yaml is not well-formed (YamlDotNet's parser message and position).</summary>
    public const string Syntax = "QB1001";

    /// <summary>The config file itself cannot be read.</summary>
    public const string ConfigNotFound = "QB1002";

    /// <summary>A key the loader does not know at that level.</summary>
    public const string UnknownKey = "QB1003";

    /// <summary>A value of the wrong type: a word where a number belongs, a list where a mapping belongs.</summary>
    public const string WrongType = "QB1004";

    /// <summary>A required key is missing.</summary>
    public const string MissingKey = "QB1005";

    /// <summary>A file or folder the config names does not exist.</summary>
    public const string FileNotFound = "QB1006";

    /// <summary>No targets.</summary>
    public const string NoTargets = "QB1007";

    /// <summary>A device profile name QuantBuild does not know.</summary>
    public const string UnknownDevice = "QB1008";

    /// <summary>A recipe pass no loaded plugin provides.</summary>
    public const string UnknownPass = "QB1009";

    /// <summary>A pass or weight encoding the target's device profile cannot run.</summary>
    public const string NotSupportedByDevice = "QB1010";

    /// <summary>A value outside its allowed range.</summary>
    public const string OutOfRange = "QB1011";

    /// <summary>A metric that needs labels, but evaluation.labels is missing.</summary>
    public const string LabelsRequired = "QB1012";

    /// <summary>A word outside its fixed set (calibration method, metric, granularity, option enum).</summary>
    public const string UnknownValue = "QB1013";

    /// <summary>Keys that only make sense together, or never together.</summary>
    public const string Conflict = "QB1014";

    /// <summary>A plugin path outside the yaml's folder tree without allow_outside.</summary>
    public const string PluginOutsideTree = "QB1015";

    /// <summary>A data path whose form the loader does not recognise.</summary>
    public const string UnsupportedData = "QB1016";

    /// <summary>A target name or output file name that cannot be a file name, or that two targets share.</summary>
    public const string BadName = "QB1017";

    /// <summary><c>quantbuild init</c> would overwrite an existing quantize.yaml.</summary>
    public const string StarterExists = "QB1018";

    /// <summary>A path that exists but is not a readable regular file: a device, FIFO, /proc file, empty file, or a NUL in it.</summary>
    public const string NotAFile = "QB1020";

    /// <summary>The yaml exceeds a parser limit: file size, nesting depth or alias expansion.</summary>
    public const string TooLarge = "QB1021";

    /// <summary><c>activations: dynamic</c> (or a dynamic layer) with weights the encoder cannot write under run-time activation quantization.</summary>
    public const string DynamicNotWritable = "QB1024";

    /// <summary>A credential (connection string, account key, SAS) written into quantize.yaml instead of the environment.</summary>
    public const string SecretInConfig = "QB1040";
}
