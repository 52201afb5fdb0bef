/*
 * cmd_init.c — `dashspec init [DIR]` (a project file, an example spec and the
 * suggested crontab line) and `dashspec completion bash|zsh` (the shell
 * completion script, its option lists taken from the commands' usage texts
 * so that they cannot drift from what the parser accepts).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "ds_common.h"
#include "ds_project.h"

const char usage_init[] =
    "usage: dashspec init [DIR]\n"
    "\n"
    "Starts a project in DIR (default: the working directory, created when\n"
    "missing): writes DIR/dashspec.yaml (the project file) and DIR/specs/example.yaml\n"
    "(one metric and one chart), then prints the suggested crontab line. Refuses to\n"
    "overwrite either file. The result passes `dashspec check` as it is.\n"
    "\n"
    "The project file is found by walking up from the working directory; it names\n"
    "the database, source, specs and migrations (relative to its directory), and\n"
    "run's default jobs and busy timeout. Flags override $DASHSPEC_DB, which\n"
    "overrides the file. See docs/project.md.\n"
    "\n"
    "exit status: 0 written, 1 a file exists or cannot be written, 2 usage error\n"
    "\n"
    "examples:\n"
    "  dashspec init myproject && cd myproject && dashspec check\n";

const char usage_completion[] =
    "usage: dashspec completion bash|zsh\n"
    "\n"
    "Prints the shell completion script: commands, each command's options, format\n"
    "names, files and directories, and item keys (from `dashspec list`: the plan of\n"
    "the database given on the line, else the specs). `make install` installs both.\n"
    "\n"
    "examples:\n"
    "  source <(dashspec completion bash)\n"
    "  dashspec completion zsh > \"${fpath[1]}/_dashspec\"\n";

/* Writes text to path, never over an existing file. 0 ok, -1 after a message. */
static int write_new(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "dashspec init: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t n = strlen(text), off = 0;
    while (off < n) {
        ssize_t w = write(fd, text + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    int ok = off == n && close(fd) == 0;
    if (off != n) close(fd);
    if (!ok) fprintf(stderr, "dashspec init: cannot write %s: %s\n", path, strerror(errno));
    return ok ? 0 : -1;
}

/* mkdir that accepts an existing directory. */
static int ensure_dir(const char *path)
{
    struct stat st;
    if (mkdir(path, 0755) == 0 || (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))) return 0;
    fprintf(stderr, "dashspec init: cannot create directory %s: %s\n", path, strerror(errno));
    return -1;
}

int cmd_init(int argc, char **argv)
{
    const cli_opt opts[] = {{NULL, NULL, NULL, NULL, NULL}};
    const char **pos = NULL;
    size_t npos = 0;
    int rc = DS_USAGE;
    char *abs = NULL, *proj = NULL, *specs = NULL, *example = NULL;
    if (cli_parse("init", argc, argv, opts, &pos, &npos)) goto out;
    if (npos > 1) { cli_usage_error("init", "one DIR at most"); goto out; }
    rc = DS_FAILED;
    const char *dir = npos ? pos[0] : ".";
    if (ensure_dir(dir)) goto out;
    abs = realpath(dir, NULL);
    if (!abs) { fprintf(stderr, "dashspec init: %s: %s\n", dir, strerror(errno)); goto out; }
    proj = ds_asprintf("%s/" DS_PROJECT_FILE, abs);
    specs = ds_asprintf("%s/specs", abs);
    example = ds_asprintf("%s/specs/example.yaml", abs);
    if (!proj || !specs || !example) { fputs("dashspec: out of memory\n", stderr); goto out; }
    /* Both checked before either is written: all or nothing. */
    const char *exists = access(proj, F_OK) == 0 ? proj : access(example, F_OK) == 0 ? example : NULL;
    if (exists) {
        fprintf(stderr, "dashspec init: %s exists; not overwriting it\n", exists);
        goto out;
    }
    if (ensure_dir(specs) || write_new(proj, ds_project_template) || write_new(example, ds_project_example_spec))
        goto out;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) snprintf(self, sizeof self, "dashspec");
    else self[n] = '\0';
    printf("wrote %s\nwrote %s\n\n"
           "next: dashspec check, then set `database:` in dashspec.yaml and run\n"
           "dashspec compile and dashspec run from that directory.\n\n"
           "suggested crontab line (crontab -e): every 5 minutes, quiet unless it fails\n"
           "*/5 * * * * cd '%s' && PATH=/usr/bin:/bin '%s' run --quiet\n",
           proj, example, abs, self);
    rc = DS_OK;
out:
    free(pos);
    free(abs);
    free(proj);
    free(specs);
    free(example);
    return rc;
}

/* ---------------------------------------------------------------- completion */

/* The distinct "--option" words of a usage text, space separated, into b. */
static void usage_options(const char *usage, ds_buf *b)
{
    size_t start = b->len;
    for (const char *s = usage; (s = strstr(s, "--")) != NULL;) {
        const char *e = s + 2;
        while ((*e >= 'a' && *e <= 'z') || *e == '-') e++;
        size_t n = (size_t)(e - s);
        if (n > 2 && s[-1] != '-') {
            int seen = 0;
            for (const char *p = b->p ? b->p + start : NULL; p && (p = strstr(p, " --")) && !seen; p++)
                seen = strncmp(p + 1, s, n) == 0 && (p[1 + n] == ' ' || p[1 + n] == '\0');
            if (!seen) { ds_buf_addc(b, ' '); ds_buf_add(b, s, n); }
        }
        s = e;
    }
}

static const char bash_body[] =
    "_dashspec_keys() {\n"
    "  local i db=\"\" specs=\"\"\n"
    "  for ((i = 2; i < ${#COMP_WORDS[@]}; i++)); do\n"
    "    case ${COMP_WORDS[i-1]} in --db) db=${COMP_WORDS[i]};; --specs) specs=${COMP_WORDS[i]};; esac\n"
    "  done\n"
    "  dashspec list ${db:+--db \"$db\"} ${specs:+--specs \"$specs\"} 2>/dev/null | awk 'NR > 1 { print $1 }'\n"
    "}\n"
    "_dashspec() {\n"
    "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd=${COMP_WORDS[1]}\n"
    "  COMPREPLY=()\n"
    "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
    "    COMPREPLY=($(compgen -W \"$_dashspec_commands --help --version\" -- \"$cur\")); return\n"
    "  fi\n"
    "  case $prev in\n"
    "    --db|--schema|--source|--results) COMPREPLY=($(compgen -f -- \"$cur\")); return;;\n"
    "    --specs|--migrations) COMPREPLY=($(compgen -d -- \"$cur\")); return;;\n"
    "    --format) COMPREPLY=($(compgen -W \"text json github\" -- \"$cur\")); return;;\n"
    "    -W) COMPREPLY=($(compgen -W \"error\" -- \"$cur\")); return;;\n"
    "    --only|--select|--exclude) COMPREPLY=($(compgen -W \"$(_dashspec_keys)\" -- \"$cur\")); return;;\n"
    "    --now|--jobs|--busy-timeout|--group) return;;\n"
    "  esac\n"
    "  if [[ $cur == -* ]]; then\n"
    "    COMPREPLY=($(compgen -W \"$(_dashspec_options \"$cmd\") --help\" -- \"$cur\")); return\n"
    "  fi\n"
    "  case $cmd in\n"
    "    get|explain|preview|clear) COMPREPLY=($(compgen -W \"$(_dashspec_keys)\" -- \"$cur\"));;\n"
    "    help) COMPREPLY=($(compgen -W \"$_dashspec_commands\" -- \"$cur\"));;\n"
    "    completion) COMPREPLY=($(compgen -W \"bash zsh\" -- \"$cur\"));;\n"
    "    init) COMPREPLY=($(compgen -d -- \"$cur\"));;\n"
    "  esac\n"
    "}\n"
    "complete -F _dashspec dashspec\n";

int cmd_completion(int argc, char **argv)
{
    const cli_opt opts[] = {{NULL, NULL, NULL, NULL, NULL}};
    const char **pos = NULL;
    size_t npos = 0;
    if (cli_parse("completion", argc, argv, opts, &pos, &npos)) return DS_USAGE;
    const char *shell = npos == 1 ? pos[0] : NULL;
    free(pos);
    if (!shell || (strcmp(shell, "bash") != 0 && strcmp(shell, "zsh") != 0))
        return shell ? cli_usage_hint("completion", "the shells are bash and zsh", "unknown shell '%s'", shell)
                     : cli_usage_hint("completion", "the shells are bash and zsh", "which shell?");
    ds_buf b;
    ds_buf_init(&b);
    if (strcmp(shell, "zsh") == 0)
        ds_buf_adds(&b, "#compdef dashspec\n# dashspec zsh completion (dashspec completion zsh): the bash\n"
                        "# script through zsh's bashcompinit.\nautoload -U +X bashcompinit && bashcompinit\n");
    else
        ds_buf_adds(&b, "# dashspec bash completion (dashspec completion bash)\n");
    ds_buf_adds(&b, "_dashspec_commands=\"");
    const cli_command *c;
    for (size_t i = 0; (c = cli_command_at(i)) != NULL; i++) ds_buf_printf(&b, "%s%s", i ? " " : "", c->name);
    ds_buf_adds(&b, " help\"\n_dashspec_options() {\n  case $1 in\n");
    for (size_t i = 0; (c = cli_command_at(i)) != NULL; i++) {
        ds_buf_printf(&b, "    %s) echo \"", c->name);
        size_t at = b.len;
        usage_options(c->usage, &b);
        if (b.len > at && b.p[at] == ' ') memmove(b.p + at, b.p + at + 1, b.len-- - at);
        ds_buf_adds(&b, "\";;\n");
    }
    ds_buf_adds(&b, "  esac\n}\n");
    ds_buf_adds(&b, bash_body);
    int rc = DS_OK;
    if (b.oom) { fputs("dashspec: out of memory\n", stderr); rc = DS_FAILED; }
    else fputs(b.p, stdout);
    ds_buf_free(&b);
    return rc;
}
