using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Plugins;

/// <summary>
/// One call into a plugin's metric or data reader: whatever it throws becomes one diagnostic naming the plugin and
/// what it was doing, at the yaml line that asked for it (the plugin's own code when it is in its block).
/// </summary>
internal static class Contained
{
    public static T Call<T>(PluginInfo plugin, string what, SourceLocation at, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (QuantBuildException own)
        {
            throw PluginCodes.Report(plugin, own, what, at.File, at.Line, at.Column);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
        {
            throw new QuantBuildException(PluginErrorCodes.ExtensionFailed, $"{what} failed: {e.GetType().FullName}: {e.Message}",
                "check its options and the plugin's documentation; if the input is valid, report this to the plugin's author with the log",
                at.File, at.Line, at.Column, e);
        }
    }

    public static void Call(PluginInfo plugin, string what, SourceLocation at, Action call) =>
        Call(plugin, what, at, () =>
        {
            call();
            return true;
        });
}
