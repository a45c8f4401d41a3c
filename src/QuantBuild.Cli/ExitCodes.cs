namespace QuantBuild.Cli;

/// <summary>The process exit codes every verb uses; scripts and the MSBuild task rely on them.</summary>
public static class ExitCodes
{
    /// <summary>Everything worked.</summary>
    public const int Ok = 0;

    /// <summary>A QBnnnn error (bad input, failed pass, runtime failure).</summary>
    public const int Error = 1;

    /// <summary>The command line itself was wrong.</summary>
    public const int Usage = 2;

    /// <summary>A quantized model failed its accuracy gate.</summary>
    public const int GateFailed = 3;
}
