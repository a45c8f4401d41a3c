namespace Fixture.Lib;

public static class Tagger
{
    // Removed in version 2: a plugin compiled against version 1 fails with MissingMethodException if it ever gets version 2.
    public static string Tag(string text) => "v1:" + text;
}
