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

        Assert.Equal(PluginErrorCodes.ContractMismatch, error.Code);
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
    public void A_pass_raising_a_code_in_its_plugins_block_reports_that_code_with_its_fix_at_the_step()
    {
        var own = new QuantBuildException("QB7102", "clip: layers names 'conv9'.", "use node names as `quantbuild inspect` lists them (conv1, conv2)");

        QuantBuildException error = PassRunner.Failed(Plugin(PluginContract.Version.ToString(), block: 71), Step, null, own);

        Assert.Equal("QB7102", error.Code);
        Assert.Contains("pass 'clip' (plugin 'Clip.Plugin' 1.0.0)", error.Message, StringComparison.Ordinal);
        Assert.Contains("clip: layers names 'conv9'.", error.Message, StringComparison.Ordinal);
        Assert.Equal(own.Fix, error.Fix);
        Assert.Equal(12, error.Line);
    }

    [Theory]
    [InlineData(71, "QB1009", "outside its reserved codes QB7100–QB7199")]
    [InlineData(71, "QB7201", "outside its reserved codes QB7100–QB7199")]
    [InlineData(null, "QB7102", "but declares no code block")]
    public void A_code_outside_the_plugins_block_is_rewritten_to_QB2012_naming_the_original(int? block, string raised, string why)
    {
        var own = new QuantBuildException(raised, "clip: something the user can fix.", "do the thing");

        QuantBuildException error = PassRunner.Failed(Plugin(PluginContract.Version.ToString(), block), Step, null, own);

        Assert.Equal(PluginErrorCodes.CodeOutsideBlock, error.Code);
        Assert.Contains($"plugin 'Clip.Plugin' raised {raised}, {why}: clip: something the user can fix.", error.Message, StringComparison.Ordinal);
        Assert.Equal("do the thing", error.Fix);
    }

    [Theory]
    [InlineData(20, false)]
    [InlineData(21, true)]
    [InlineData(29, true)]
    [InlineData(30, false)]
    [InlineData(69, false)]
    [InlineData(70, true)]
    [InlineData(99, true)]
    [InlineData(100, false)]
    public void Plugins_may_claim_blocks_21_to_29_and_70_to_99_only(int block, bool allowed)
    {
        Assert.Equal(allowed, PluginCodes.IsPluginBlock(block));
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

    private static PluginInfo Plugin(string? contract, int? block = null) => new()
    {
        CodeBlock = block,
        Name = "Clip.Plugin",
        Source = PluginSource.Path,
        Path = "/plugins/Clip.Plugin.dll",
        Version = "1.0.0",
        ContractVersion = contract,
    };
}
