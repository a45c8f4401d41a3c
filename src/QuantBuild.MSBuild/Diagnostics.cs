using System.Text.RegularExpressions;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace QuantBuild.MSBuild;

/// <summary>
/// Turns the tool's <c>file(line,col): error QBnnnn: message Fix: ...</c> lines into MSBuild errors and warnings with
/// code, file, line and column, so an IDE's error list jumps to the yaml line.
/// </summary>
internal static partial class Diagnostics
{
    [GeneratedRegex(@"^(?:(?<file>.+?)(?:\((?<line>\d+),(?<col>\d+)\))?: )?(?<kind>error|warning) (?<code>QB\d{4}): (?<message>.*)$")]
    private static partial Regex Line();

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
            log.LogError("QuantBuild", code, null, file, row, col, 0, 0, message);
        }
        else
        {
            log.LogWarning("QuantBuild", code, null, file, row, col, 0, 0, message);
        }

        return true;
    }

    /// <summary>Logs a QB5xxx error of the MSBuild integration itself.</summary>
    public static void Error(TaskLoggingHelper log, string code, string? file, string message, string fix) =>
        log.LogError("QuantBuild", code, null, file, 0, 0, 0, 0, $"{message} Fix: {fix}");
}
