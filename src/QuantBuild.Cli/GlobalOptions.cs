using System.CommandLine;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace QuantBuild.Cli;

/// <summary>
/// Options every verb takes (<c>-v</c>, <c>--log</c>), declared once on the root and inherited by each verb, so a verb's
/// own option list stays its own. An instance per command line: System.CommandLine options belong to one command tree.
/// </summary>
public sealed class GlobalOptions
{
    private static readonly Dictionary<string, Cli.Verbosity> Levels = new(StringComparer.OrdinalIgnoreCase)
    {
        ["q"] = Cli.Verbosity.Quiet, ["quiet"] = Cli.Verbosity.Quiet,
        ["m"] = Cli.Verbosity.Minimal, ["minimal"] = Cli.Verbosity.Minimal,
        ["n"] = Cli.Verbosity.Normal, ["normal"] = Cli.Verbosity.Normal,
        ["d"] = Cli.Verbosity.Detailed, ["detailed"] = Cli.Verbosity.Detailed,
        ["diag"] = Cli.Verbosity.Diagnostic, ["diagnostic"] = Cli.Verbosity.Diagnostic,
    };

    /// <summary><c>-v|--verbosity q|m|n|d|diag</c>.</summary>
    public Option<Verbosity> Verbosity { get; } = new("--verbosity", "-v")
    {
        Description = "How much to log on stderr: q[uiet], m[inimal], n[ormal], d[etailed], diag[nostic].",
        Recursive = true,
        DefaultValueFactory = _ => Cli.Verbosity.Normal,
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "n";
            if (Levels.TryGetValue(text, out Cli.Verbosity level))
            {
                return level;
            }

            result.AddError($"'{text}' is not a verbosity; use q, m, n, d or diag.");
            return Cli.Verbosity.Normal;
        },
        HelpName = "level",
    };

    /// <summary><c>--log FILE</c> (also <c>--log-file</c>): every log line at debug level or finer, to a file.</summary>
    public Option<string?> LogFile { get; } = new("--log", "--log-file")
    {
        Description = "Also write the log to this file (debug level; everything at -v diag).",
        Recursive = true,
        HelpName = "file",
    };

    /// <summary>The run's logger: stderr at the chosen verbosity, plus the log file when one is given.</summary>
    public static Logger Logger(CliContext context)
    {
        LogEventLevel console = context.Verbosity switch
        {
            Cli.Verbosity.Quiet or Cli.Verbosity.Minimal => LogEventLevel.Warning,
            // In a terminal the progress bars and the summary say what the info lines would; keep only warnings there.
            Cli.Verbosity.Normal => context.Interactive ? LogEventLevel.Warning : LogEventLevel.Information,
            Cli.Verbosity.Detailed => LogEventLevel.Debug,
            _ => LogEventLevel.Verbose,
        };
        LogEventLevel file = context.Verbosity == Cli.Verbosity.Diagnostic ? LogEventLevel.Verbose : LogEventLevel.Debug;
        LoggerConfiguration configuration = new LoggerConfiguration()
            .MinimumLevel.Is(context.LogFile is null ? console : (LogEventLevel)Math.Min((int)console, (int)file))
            .WriteTo.Sink(new TextWriterSink(context.Error, withExceptions: context.Verbosity == Cli.Verbosity.Diagnostic), console);
        if (context.LogFile is { } path)
        {
            configuration = configuration.WriteTo.File(Path.GetFullPath(path), file,
                outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} [{Level:u3}] {Message:lj}{NewLine}{Exception}",
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }

        return configuration.CreateLogger();
    }
}
