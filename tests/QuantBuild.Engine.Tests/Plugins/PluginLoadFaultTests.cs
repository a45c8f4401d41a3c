using QuantBuild.Engine.Config;
using QuantBuild.Engine.Plugins;

namespace QuantBuild.Engine.Tests.Plugins;

/// <summary>Every way a plugin can fail to load gives its own code, names the plugin, and leaves the other plugins loaded.</summary>
public sealed class PluginLoadFaultTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private PluginInfo LoadFailing(PluginReference reference)
    {
        using PluginHost host = Fixtures.Host([reference, new PluginReference { Path = Fixtures.Folder("Fixture.PluginA") }]);
        Assert.True(host.Passes.ContainsKey("fixture-a"), "the healthy plugin must still load");
        return Assert.Single(host.Failures);
    }

    [Fact]
    public void A_plugin_built_against_a_newer_contract_major_is_refused_with_QB2003()
    {
        PluginInfo failed = LoadFailing(new PluginReference { Path = Fixtures.Folder("Fixture.FuturePlugin") });

        Assert.Equal("QB2003", failed.ErrorCode);
        Assert.Equal("3.0", failed.ContractVersion);
        Assert.Contains("'Fixture.FuturePlugin'", failed.Error);
        Assert.Contains("contract 3.0, newer than this QuantBuild's 2.0", failed.Error);
        Assert.Empty(failed.Passes);
    }

    [Fact]
    public void A_plugin_built_against_contract_1_is_refused_with_QB2003_and_the_migration_as_fix()
    {
        PluginInfo failed = LoadFailing(new PluginReference { Path = Fixtures.Folder("Fixture.LegacyPlugin") });

        Assert.Equal("QB2003", failed.ErrorCode);
        Assert.Equal("1.0", failed.ContractVersion);
        Assert.Contains("plugin 'Fixture.LegacyPlugin' was built against plugin contract 1.0; this QuantBuild carries contract 2.0", failed.Error);
        Assert.Contains("rebuild the plugin against QuantBuild.Abstractions 2.0.*", failed.Error);
        Assert.Contains("Migrating from contract 1.x", failed.Error);
        Assert.Empty(failed.Passes);
    }

    [Fact]
    public void A_sha256_pin_that_does_not_match_is_refused_with_QB2004()
    {
        PluginInfo failed = LoadFailing(new PluginReference { Path = Fixtures.Folder("Fixture.PluginB"), Sha256 = new string('0', 64) });

        Assert.Equal("QB2004", failed.ErrorCode);
        Assert.Contains("pins 0000", failed.Error);
    }

    [Fact]
    public void A_matching_sha256_pin_loads()
    {
        string sha = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
            File.ReadAllBytes(Path.Combine(Fixtures.Folder("Fixture.PluginB"), "Fixture.PluginB.dll"))));
        using PluginHost host = Fixtures.Host([new PluginReference { Path = Fixtures.Folder("Fixture.PluginB"), Sha256 = sha.ToLowerInvariant() }]);

        Assert.Empty(host.Failures);
    }

    [Fact]
    public void A_missing_dependency_is_reported_at_load_with_QB2002_naming_it()
    {
        string copy = Fixtures.CopyOf("Fixture.PluginB", _temp.Path);
        File.Delete(Path.Combine(copy, "Fixture.Lib.dll"));

        PluginInfo failed = LoadFailing(new PluginReference { Path = copy });

        Assert.Equal("QB2002", failed.ErrorCode);
        Assert.Contains("Fixture.Lib, Version=2.0.0.0", failed.Error);
    }

    [Fact]
    public void A_file_that_is_not_an_assembly_fails_with_QB2000()
    {
        string bogus = _temp.P("Bogus.dll");
        File.WriteAllText(bogus, "not a PE file");

        PluginInfo failed = LoadFailing(new PluginReference { Path = bogus });

        Assert.Equal("QB2000", failed.ErrorCode);
        Assert.Contains("'Bogus'", failed.Error);
    }

    [Fact]
    public void A_folder_without_a_plugin_assembly_fails_with_QB2001()
    {
        Directory.CreateDirectory(_temp.P("empty"));

        Assert.Equal("QB2001", LoadFailing(new PluginReference { Path = _temp.P("empty") }).ErrorCode);
    }

    [Fact]
    public void Two_plugins_providing_the_same_pass_name_refuse_the_second_with_QB2006()
    {
        string copy = Fixtures.CopyOf("Fixture.PluginA", _temp.Path);
        File.Move(Path.Combine(copy, "Fixture.PluginA.dll"), Path.Combine(copy, "Renamed.dll"));

        PluginInfo failed = LoadFailing(new PluginReference { Path = Path.Combine(copy, "Renamed.dll") });

        Assert.Equal("QB2006", failed.ErrorCode);
        Assert.Contains("'fixture-a'", failed.Error);
    }

    [Fact]
    public void First_party_plugins_load_from_the_plugins_folder_without_being_named()
    {
        Fixtures.CopyOf("Fixture.PluginB", _temp.P("plugins"));

        using PluginHost host = PluginHost.Load([], _temp.Path, new PluginHostOptions { FirstPartyDirectory = _temp.P("plugins") });

        PluginInfo plugin = Assert.Single(host.Plugins);
        Assert.Equal(PluginSource.FirstParty, plugin.Source);
        Assert.True(host.Passes.ContainsKey("fixture-b"));
    }

    [Fact]
    public void A_package_plugin_is_restored_with_the_yaml_folders_NuGet_config_and_loaded_from_the_packages_folder()
    {
        File.WriteAllText(_temp.P("nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="fixtures" value="{Fixtures.Feed}" />
              </packageSources>
            </configuration>
            """);
        string packages = _temp.P("packages");

        using PluginHost host = PluginHost.Load([new PluginReference { Package = "Fixture.PackagePlugin", Version = "1.0.0" }], _temp.Path,
            Fixtures.NoFirstParty with { PackagesDirectory = packages });

        PluginInfo plugin = Assert.Single(host.Plugins);
        Assert.True(plugin.Loaded, plugin.Error);
        Assert.Equal(PluginSource.Package, plugin.Source);
        Assert.StartsWith(Path.Combine(packages, "fixture.packageplugin", "1.0.0", "lib"), plugin.Path);
        Assert.Equal("restored", new FakePassContext().Run(host.Passes["fixture-package"]).Metadata("fixture-package"));
    }

    [Fact]
    public void A_package_no_source_has_fails_with_QB2005()
    {
        File.WriteAllText(_temp.P("nuget.config"), $"""
            <configuration><packageSources><clear /><add key="fixtures" value="{Fixtures.Feed}" /></packageSources></configuration>
            """);

        using PluginHost host = PluginHost.Load([new PluginReference { Package = "Fixture.NoSuchPlugin", Version = "9.9.9" }], _temp.Path,
            Fixtures.NoFirstParty with { PackagesDirectory = _temp.P("packages") });

        PluginInfo failed = Assert.Single(host.Failures);
        Assert.Equal("QB2005", failed.ErrorCode);
        Assert.Contains("Fixture.NoSuchPlugin 9.9.9", failed.Error);
    }

    [Fact]
    public void Every_plugin_error_code_has_a_row_in_errors_md()
    {
        string errors = File.ReadAllText(Path.Combine(Data.TestFiles.RepoRoot, "docs", "errors.md"));
        string[] codes = typeof(PluginErrorCodes).GetFields().Select(f => (string)f.GetValue(null)!).ToArray();

        Assert.NotEmpty(codes);
        Assert.All(codes, code => Assert.Contains($"| {code} |", errors));
    }
}
