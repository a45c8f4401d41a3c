using System.Globalization;
using System.Text.RegularExpressions;
using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Plugins;

/// <summary>
/// The rule for plugins' own diagnostic codes: a plugin claims block nn in its [QuantBuildPlugin] attribute and owns
/// QBnn00–QBnn99. 21–29 are first-party (nupes 21, smoothquant 22, adaquant 23), 70–99 third-party; the rest are the
/// host's ranges. A code a plugin raises inside its block is shown as it is; any other is rewritten to QB2012 naming
/// it, so a plugin can never pass itself off as a config, gate or packaging error, and two plugins never share codes.
/// </summary>
public static partial class PluginCodes
{
    /// <summary>True when block <paramref name="block"/> may be claimed by a plugin.</summary>
    public static bool IsPluginBlock(int block) => block is (>= 21 and <= 29) or (>= 70 and <= 99);

    /// <summary>QBnn00–QBnn99 for block nn.</summary>
    public static string Range(int block) => string.Create(CultureInfo.InvariantCulture, $"QB{block}00–QB{block}99");

    /// <summary>True when <paramref name="code"/> lies in <paramref name="plugin"/>'s block.</summary>
    public static bool Owns(PluginInfo plugin, string code) =>
        plugin.CodeBlock is int block && CodePattern().IsMatch(code) && int.Parse(code.AsSpan(2, 2), CultureInfo.InvariantCulture) == block;

    /// <summary>
    /// <paramref name="own"/>, raised by <paramref name="plugin"/> while doing <paramref name="what"/>, as the user sees it: its
    /// own code when the plugin owns it, else QB2012; always with the plugin's fix and at <paramref name="file"/>:<paramref name="line"/>.
    /// </summary>
    public static QuantBuildException Report(PluginInfo plugin, QuantBuildException own, string what, string? file, int line, int column)
    {
        if (Owns(plugin, own.Code))
        {
            return new QuantBuildException(own.Code, $"{what}: {own.Message}", own.Fix, file ?? own.FilePath, line, column, own);
        }

        string block = plugin.CodeBlock is int b ? $"outside its reserved codes {Range(b)}" : "but declares no code block";
        return new QuantBuildException(PluginErrorCodes.CodeOutsideBlock,
            $"{what}: plugin '{plugin.Name}' raised {own.Code}, {block}: {own.Message}",
            string.IsNullOrEmpty(own.Fix) ? "report this to the plugin's author: a plugin's own codes must lie in the block its [QuantBuildPlugin] attribute claims (docs/plugins.md)" : own.Fix,
            file ?? own.FilePath, line, column, own);
    }

    [GeneratedRegex("^QB[0-9]{4}$", RegexOptions.CultureInvariant)]
    private static partial Regex CodePattern();
}
