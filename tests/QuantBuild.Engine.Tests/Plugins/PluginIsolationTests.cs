using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Engine.Plugins;

namespace QuantBuild.Engine.Tests.Plugins;

public sealed class PluginIsolationTests
{
    [Fact]
    public void Two_plugins_needing_incompatible_versions_of_one_library_both_load_and_run_in_one_process()
    {
        using PluginHost host = Fixtures.Host(Fixtures.Folder("Fixture.PluginA"), Fixtures.Folder("Fixture.PluginB"));
        Assert.Empty(host.Failures);

        IQuantizationPass a = host.Passes["fixture-a"];
        IQuantizationPass b = host.Passes["fixture-b"];
        Assert.Equal("v1:a", new FakePassContext().Run(a).Metadata("fixture-a"));
        Assert.Equal("v2:bb", new FakePassContext().Run(b).Metadata("fixture-b"));

        Assert.Equal(new Version(1, 0, 0, 0), LibraryVersion(a));
        Assert.Equal(new Version(2, 0, 0, 0), LibraryVersion(b));
        Assert.NotSame(AssemblyLoadContext.GetLoadContext(a.GetType().Assembly), AssemblyLoadContext.GetLoadContext(b.GetType().Assembly));
    }

    [Fact]
    public void Listing_shows_name_version_contract_path_hash_and_passes()
    {
        using PluginHost host = Fixtures.Host(Fixtures.Folder("Fixture.PluginA"));
        PluginInfo info = Assert.Single(host.Plugins);

        Assert.Equal("Fixture.PluginA", info.Name);
        Assert.Equal("1.2.3", info.Version);
        Assert.Equal($"{PluginContract.Major}.{PluginContract.Minor}", info.ContractVersion);
        Assert.Equal(Path.Combine(Fixtures.Folder("Fixture.PluginA"), "Fixture.PluginA.dll"), info.Path);
        Assert.Equal(PluginSource.Path, info.Source);
        Assert.Equal(64, info.Sha256!.Length);
        PassInfo pass = Assert.Single(info.Passes);
        Assert.Equal("fixture-a", pass.Name);
        Assert.Equal("Fixture.PluginA.TagAOptions", pass.Options);
        Assert.Equal(["Conv", "Gemm"], pass.SupportedOps);
    }

    [Fact]
    public void A_native_dependency_loads_from_the_plugins_own_runtimes_folder()
    {
        using PluginHost host = Fixtures.Host(Fixtures.Folder("Fixture.NativePlugin"));
        Assert.Empty(host.Failures);

        // CRC-32 of "hello", computed by the native library only the plugin's folder holds.
        Assert.Equal("3610a686", new FakePassContext().Run(host.Passes["fixture-native"]).Metadata("fixture-native"));
        if (OperatingSystem.IsLinux())
        {
            string expected = Path.Combine(Fixtures.Folder("Fixture.NativePlugin"), "runtimes");
            Assert.Contains(File.ReadAllLines("/proc/self/maps"), l => l.Contains(expected, StringComparison.Ordinal) && l.EndsWith("libfixturenative.so", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Plugin_types_never_leak_into_the_host_only_the_contract_is_shared()
    {
        using PluginHost host = Fixtures.Host(Fixtures.Folder("Fixture.PluginB"));
        IQuantizationPass pass = host.Passes["fixture-b"];
        Type pluginType = pass.GetType();

        // The contract is one type in both worlds: the plugin's own copy of QuantBuild.Abstractions.dll is never loaded.
        Assert.Same(typeof(IQuantizationPass).Assembly, pluginType.GetInterfaces().Single(i => i.Name == nameof(IQuantizationPass)).Assembly);
        Assert.NotSame(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(pluginType.Assembly));
        Assert.Null(Type.GetType(pluginType.AssemblyQualifiedName!, throwOnError: false));

        // The same plugin assembly loaded into the default context gives same-named types that are not the plugin's.
        Assembly inDefault = AssemblyLoadContext.Default.LoadFromAssemblyPath(Path.Combine(Fixtures.Folder("Fixture.PluginB"), "Fixture.PluginB.dll"));
        Type sameName = inDefault.GetType(pluginType.FullName!, throwOnError: true)!;
        Assert.NotEqual(sameName, pluginType);
        Assert.False(sameName.IsAssignableFrom(pluginType));
        Assert.False(sameName.IsInstanceOfType(pass));
    }

    [Fact]
    public void Disposing_the_host_unloads_every_plugin_context()
    {
        WeakReference[] contexts = LoadRunAndDispose();
        for (int i = 0; i < 20 && contexts.Any(c => c.IsAlive); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.All(contexts, c => Assert.False(c.IsAlive, "a plugin load context is still alive after the host was disposed"));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference[] LoadRunAndDispose()
    {
        using PluginHost host = Fixtures.Host(Fixtures.Folder("Fixture.PluginA"), Fixtures.Folder("Fixture.PluginB"), Fixtures.Folder("Fixture.NativePlugin"));
        var contexts = new List<WeakReference>();
        foreach (IQuantizationPass pass in host.Passes.Values)
        {
            new FakePassContext().Run(pass);
            contexts.Add(new WeakReference(AssemblyLoadContext.GetLoadContext(pass.GetType().Assembly)));
        }

        Assert.Equal(3, contexts.Count);
        return contexts.ToArray();
    }

    private static Version? LibraryVersion(IQuantizationPass pass) =>
        (Version?)pass.GetType().GetProperty("LibraryVersion", BindingFlags.Public | BindingFlags.Static)!.GetValue(null);
}
