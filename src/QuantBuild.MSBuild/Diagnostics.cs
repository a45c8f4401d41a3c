using System.Text.RegularExpressions;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace QuantBuild.MSBuild;

/// <summary>
/// Turns the tool's <c>file(line,col): error QBnnnn: message Fix: ...</c> lines into MSBuild errors and warnings with
/// code, file, line and column, so an IDE's error list jumps to the yaml line. No subcategory: the line reads
/// <c>file(line,col): error QBnnnn: message</c>, as the SDK's NETSDKnnnn diagnostics do.
/// </summary>
internal static partial class Diagnostics
{
    // Leading whitespace and the log's [HH:mm:ss] are not part of the file name (an IDE cannot open "  /path"); a file name
    // never holds ": ", so "x64: file(1,2): error ..." (a log line about a target) is not read as a file called "x64: file".
    [GeneratedRegex(@"^\s*(?:\[\d\d:\d\d:\d\d\] )?(?:(?<file>\S(?:(?!: ).)*?)(?:\((?<line>\d+),(?<col>\d+)\))?: )?(?<kind>error|warning) (?<code>QB\d{4}): (?<message>.*)$")]
    private static partial Regex Line();

    [GeneratedRegex(@"^\s*(?:\[\d\d:\d\d:\d\d\] )?")]
    private static partial Regex Prefix();

    /// <summary>True when <paramref name="line"/> is a QB diagnostic in the canonical form.</summary>
    public static bool IsDiagnostic(string line) => Line().IsMatch(line);

    /// <summary>The line without leading whitespace and the log's [HH:mm:ss]: the same diagnostic logged and printed compares equal.</summary>
    public static string WithoutTimestamp(string line) => Prefix().Replace(line, string.Empty, 1);

    /// <summary>Logs <paramref name="line"/> if it is a QB diagnostic; returns whether it was one that is an error.</summary>
    public static bool TryLog(TaskLoggingHelper log, string line, out bool isError)
    {
        isError = false;
        Match match = Line().Match(line);
        if (!match.Success)
        {
            return false;
        }

        string? file = match.Groups["file"].Success ? match.Groups["file"].Value : null;
        int row = match.Groups["line"].Success ? int.Parse(match.Groups["line"].Value) : 0;
        int col = match.Groups["col"].Success ? int.Parse(match.Groups["col"].Value) : 0;
        string code = match.Groups["code"].Value;
        string message = match.Groups["message"].Value;
        isError = match.Groups["kind"].Value == "error";
        if (isError)
        {
            log.LogError(null, code, null, file, row, col, 0, 0, message);
        }
        else
        {
            log.LogWarning(null, code, null, file, row, col, 0, 0, message);
        }

        return true;
    }

    /// <summary>Logs a QB5xxx error of the MSBuild integration itself.</summary>
    public static void Error(TaskLoggingHelper log, string code, string? file, string message, string fix) =>
        log.LogError(null, code, null, file, 0, 0, 0, 0, $"{message.TrimEnd()} Fix: {fix}");
}
