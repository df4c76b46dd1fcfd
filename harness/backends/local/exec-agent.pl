# faultline exec agent (perl-base only; Debian marks perl-base Essential).
# Runs inside a node's namespaces and forks the commands the harness asks for: a fork of this small
# process costs a fraction of a spawn from Node, which is most of a CNI call's overhead.
# Requests and responses are frames: u32 length + fields, each field u32 length + bytes.
#   request:  id, timeoutMs, netns ('' = the node's), argc, argv..., envc, (key, value)..., stdin
#   response: id, exitCode, signal, stdout, stderr, timedOut ('1' / '')
# Commands are argv arrays exec'd directly; nothing is passed through a shell.
use strict;
use warnings;
use POSIX ();
use Fcntl qw(:flock O_WRONLY O_CREAT O_TRUNC);

my ($lock_path, $tmp) = @ARGV;
mkdir $tmp, 0700;
binmode STDIN;
binmode STDOUT;
$SIG{CHLD} = 'IGNORE';
$SIG{PIPE} = 'DEFAULT';

sub read_exact {
  my ($n) = @_;
  my $buf = '';
  while (length($buf) < $n) {
    my $r = sysread(STDIN, $buf, $n - length($buf), length($buf));
    return undef if !$r;
  }
  return $buf;
}

sub fields {
  my ($p) = @_;
  my @f;
  my $o = 0;
  while ($o < length $p) {
    my $l = unpack('N', substr($p, $o, 4));
    push @f, substr($p, $o + 4, $l);
    $o += 4 + $l;
  }
  return @f;
}

sub frame {
  my $p = join('', map { pack('N', length $_) . $_ } @_);
  return pack('N', length $p) . $p;
}

sub slurp {
  my ($path) = @_;
  open(my $fh, '<', $path) or return '';
  binmode $fh;
  local $/;
  my $s = <$fh>;
  close $fh;
  unlink $path;
  return defined $s ? $s : '';
}

sub respond {
  my $out = frame(@_);
  # Responses of concurrent requests must not interleave: one lock per writer (own open file).
  open(my $lock, '>>', $lock_path) or POSIX::_exit(1);
  flock($lock, LOCK_EX);
  my $off = 0;
  while ($off < length $out) {
    my $w = syswrite(STDOUT, $out, length($out) - $off, $off);
    POSIX::_exit(1) if !defined $w;
    $off += $w;
  }
  flock($lock, LOCK_UN);
  close $lock;
}

sub run_request {
  my ($id, $timeout, $netns, $argv, $env, $stdin) = @_;
  $SIG{CHLD} = 'DEFAULT';
  my $base = "$tmp/$id";
  sysopen(my $in, "$base.in", O_WRONLY | O_CREAT | O_TRUNC, 0600) or do { respond($id, '127', '', '', "agent: $!", ''); return };
  syswrite($in, $stdin);
  close $in;
  my $child = fork();
  if (!defined $child) { respond($id, '127', '', '', "agent: fork: $!", ''); return }
  if ($child == 0) {
    open(STDIN, '<', "$base.in") or POSIX::_exit(127);
    open(STDOUT, '>', "$base.out") or POSIX::_exit(127);
    open(STDERR, '>', "$base.err") or POSIX::_exit(127);
    %ENV = %$env;
    my @cmd = $netns eq '' ? @$argv : ('nsenter', "--net=$netns", '--', @$argv);
    { no warnings 'exec'; exec { $cmd[0] } @cmd; }
    print STDERR "exec $cmd[0]: $!\n";
    POSIX::_exit(127);
  }
  my $timed_out = '';
  if ($timeout > 0) {
    local $SIG{ALRM} = sub { kill 'KILL', $child; $timed_out = '1' };
    alarm(int(($timeout + 999) / 1000));
    waitpid($child, 0);
    alarm(0);
  } else {
    waitpid($child, 0);
  }
  my $status = $?;
  my $sig = $status & 127;
  my $code = $sig ? 128 + $sig : $status >> 8;
  unlink "$base.in";
  respond($id, "$code", $sig ? "$sig" : '', slurp("$base.out"), slurp("$base.err"), $timed_out);
}

while (1) {
  my $hdr = read_exact(4);
  last if !defined $hdr;
  my $payload = read_exact(unpack('N', $hdr));
  last if !defined $payload;
  my ($id, $timeout, $netns, $argc, @rest) = fields($payload);
  my @argv = splice(@rest, 0, $argc);
  my $envc = shift @rest;
  my %env;
  for (1 .. $envc) {
    my $k = shift @rest;
    $env{$k} = shift @rest;
  }
  my $stdin = shift @rest;
  my $pid = fork();
  if (!defined $pid) {
    respond($id, '127', '', '', "agent: fork: $!", '');
    next;
  }
  if ($pid == 0) {
    run_request($id, $timeout, $netns, \@argv, \%env, defined $stdin ? $stdin : '');
    POSIX::_exit(0);
  }
}
