using QuantBuild.Cli;

return CliApp.Run(args, Console.Out, Console.Error, interactive: !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("CI") is null);
