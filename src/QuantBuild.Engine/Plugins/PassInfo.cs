namespace QuantBuild.Engine.Plugins;

/// <summary>A pass as listings show it.</summary>
/// <param name="Name">The name a recipe writes after <c>pass:</c>.</param>
/// <param name="Options">The full name of its options type.</param>
/// <param name="SupportedOps">The op types it acts on; empty when not op-specific.</param>
public sealed record PassInfo(string Name, string Options, IReadOnlyList<string> SupportedOps);
