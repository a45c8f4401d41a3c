namespace QuantBuild.Cli;

/// <summary>How much the tool says on stderr, named as dotnet's own <c>-v</c> levels.</summary>
public enum Verbosity
{
    /// <summary><c>q</c>: errors and warnings only, no progress.</summary>
    Quiet,

    /// <summary><c>m</c>: as quiet (the summary on stdout is the result).</summary>
    Minimal,

    /// <summary><c>n</c> (default): progress and information lines.</summary>
    Normal,

    /// <summary><c>d</c>: also debug lines, plugins' Debug messages included.</summary>
    Detailed,

    /// <summary><c>diag</c>: everything, with source context.</summary>
    Diagnostic,
}
