using System.Runtime.CompilerServices;
using PublicApiGenerator;
using QuantBuild.Abstractions.Passes;

namespace QuantBuild.Abstractions.Tests;

/// <summary>
/// The plugin contract's public API, snapshotted: any change to it shows as a diff of QuantBuild.Abstractions.approved.txt
/// in review. On a mismatch the test writes QuantBuild.Abstractions.received.txt beside it; if the change is intended
/// (and the contract version bumped where it breaks plugins), copy received over approved.
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void The_public_API_of_the_contract_matches_the_approved_snapshot()
    {
        string api = typeof(PluginContract).Assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false })
            .ReplaceLineEndings("\n");
        string approvedPath = Beside("QuantBuild.Abstractions.approved.txt");
        string receivedPath = Beside("QuantBuild.Abstractions.received.txt");
        string approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : string.Empty;
        if (approved != api)
        {
            File.WriteAllText(receivedPath, api);
            Assert.Fail($"The contract's public API changed. Compare {receivedPath} with {approvedPath}; if the change is intended, copy it over.");
        }

        File.Delete(receivedPath);
    }

    [Fact]
    public void The_assembly_version_major_is_the_contract_major_plugins_are_checked_against()
    {
        Version version = typeof(PluginContract).Assembly.GetName().Version!;

        Assert.Equal(PluginContract.Major, version.Major);
        Assert.Equal(PluginContract.Minor, version.Minor);
        Assert.Equal(PluginContract.AssemblyName, typeof(PluginContract).Assembly.GetName().Name);
    }

    [Fact]
    public void The_contract_depends_on_the_BCL_only()
    {
        string[] references = typeof(PluginContract).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToArray();

        Assert.All(references, r => Assert.True(r.StartsWith("System", StringComparison.Ordinal) || r is "netstandard" or "mscorlib", r));
    }

    private static string Beside(string name, [CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, name);
}
