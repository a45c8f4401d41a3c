using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Plugins;

namespace QuantBuild.Engine.Tests.Plugins;

/// <summary>A plugin built for a newer minor contract loads; what a user sees when it reaches a member this host lacks.</summary>
public sealed class ContractVersionTests
{
    private static readonly RecipePass Step = new()
    {
        Name = "clip",
        Options = new ConfigMapping(Array.Empty<ConfigEntry>(), new SourceLocation("quantize.yaml", 12, 9)),
        Location = new SourceLocation("quantize.yaml", 12, 9),
    };

    [Fact]
    public void A_missing_member_in_a_plugin_built_for_a_newer_minor_contract_is_QB2003_naming_both_versions()
    {
        string newer = $"{PluginContract.Major}.{PluginContract.Minor + 2}";
        PluginInfo plugin = Plugin(newer);

        QuantBuildException error = PassRunner.Failed(plugin, Step, null, new MissingMethodException("Method not found: 'Void IPassContext.Later()'."));

        Assert.Equal(PluginErrorCodes.NewerContract, error.Code);
        Assert.Contains($"built against plugin contract {newer}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"this QuantBuild's contract {PluginContract.Version}", error.Message, StringComparison.Ordinal);
        Assert.Contains("IPassContext.Later", error.Message, StringComparison.Ordinal);
        Assert.Contains("update QuantBuild", error.Fix, StringComparison.Ordinal);
        Assert.Equal(12, error.Line);
    }

    [Fact]
    public void The_same_exception_from_a_plugin_built_for_this_contract_is_an_ordinary_pass_failure()
    {
        QuantBuildException error = PassRunner.Failed(Plugin(PluginContract.Version.ToString()), Step, null, new MissingMethodException("gone"));

        Assert.Equal(PluginErrorCodes.PassFailed, error.Code);
        Assert.Contains("MissingMethodException: gone", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pass_that_raises_its_own_diagnostic_keeps_its_fix_inside_QB2020()
    {
        var own = new QuantBuildException("QB2102", "clip: layers names 'conv9'.", "use node names as `quantbuild inspect` lists them (conv1, conv2)");

        QuantBuildException error = PassRunner.Failed(Plugin(PluginContract.Version.ToString()), Step, null, own);

        Assert.Equal(PluginErrorCodes.PassFailed, error.Code);
        Assert.Contains("QB2102: clip: layers names 'conv9'.", error.Message, StringComparison.Ordinal);
        Assert.Equal(own.Fix, error.Fix);
    }

    public static TheoryData<string?, bool> Contracts => new()
    {
        { null, false },
        { "not a version", false },
        { $"{PluginContract.Major}.{PluginContract.Minor}", false },
        { $"{PluginContract.Major}.{PluginContract.Minor + 1}", true },
        { $"{PluginContract.Major + 1}.0", false },
        { $"{PluginContract.Major - 1}.{PluginContract.Minor + 5}", false },
    };

    [Theory]
    [MemberData(nameof(Contracts))]
    public void Only_the_same_major_with_a_newer_minor_counts_as_newer_minor(string? contract, bool newer)
    {
        Assert.Equal(newer, PassRunner.NewerMinorContract(Plugin(contract)) is not null);
    }

    private static PluginInfo Plugin(string? contract) => new()
    {
        Name = "Clip.Plugin",
        Source = PluginSource.Path,
        Path = "/plugins/Clip.Plugin.dll",
        Version = "1.0.0",
        ContractVersion = contract,
    };
}
