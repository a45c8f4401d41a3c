namespace QuantBuild.Abstractions.Passes;

/// <summary>
/// Names a plugin assembly and claims its block of diagnostic codes. <paramref name="id"/> qualifies the metrics and
/// data readers the plugin provides in quantize.yaml (<c>metric: id/name</c>, <c>reader: id/name</c>).
/// <paramref name="codeBlock"/> <c>nn</c> reserves QBnn00–QBnn99 for the plugin's own <c>QuantBuildException</c>s:
/// 21–29 (QB2100–QB2999) are first-party, 70–99 (QB7000–QB9999) are for third parties; everything else is the
/// host's (docs/plugins.md lists the blocks taken). The host reports a plugin's code inside its block as it is, and
/// rewrites any other code the plugin raises to QB2012, naming both.
/// </summary>
/// <param name="id">Lower-case letters, digits, '-' and '_'; unique among the plugins a quantize.yaml loads.</param>
/// <param name="codeBlock">The first two digits of the plugin's codes: 21 to 29, or 70 to 99.</param>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class QuantBuildPluginAttribute(string id, int codeBlock) : Attribute
{
    /// <summary>The plugin's id, for example <c>nupes</c> or <c>contoso</c>.</summary>
    public string Id { get; } = id;

    /// <summary>The first two digits of the plugin's diagnostic codes: 70 reserves QB7000–QB7099.</summary>
    public int CodeBlock { get; } = codeBlock;
}
