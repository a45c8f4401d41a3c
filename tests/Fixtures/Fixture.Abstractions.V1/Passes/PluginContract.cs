namespace QuantBuild.Abstractions.Passes;

public static class PluginContract
{
    public const int Major = 1;

    public const int Minor = 0;
}
